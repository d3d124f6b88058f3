// hydra-bridge-client: the TypeScript SDK of the Hydra bridge, protocol v1
// (docs/bridge-protocol.md). No dependencies; browsers and Node (pass a
// WebSocket constructor such as the `ws` package's).
export { BridgeClient, CLIENT_NAME, decodeRecord, TERMINAL_CLOSE_CODES } from "./client.js";
export type { ClientOptions, SubscribeOptions } from "./client.js";
export { Submitter } from "./submitter.js";
export type { SubmitterOptions, SubmitterStats } from "./submitter.js";
export { BridgeError } from "./types.js";
export type {
  BridgeEvent,
  ClientState,
  Filter,
  LogRecord,
  SubmitResult,
  SubmittedRecord,
  Welcome,
} from "./types.js";
export { backoffDelay, base64url, parseRetryAfter } from "./util.js";
