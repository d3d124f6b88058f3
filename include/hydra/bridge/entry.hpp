// One record as the bridge keeps it: an owned copy of what the pipeline
// handed the destination (after the protect stage), with its stream's seq.
// Filters read it as it is; the JSON a client gets is rendered once, when a
// client first needs it, and shared by every client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/core/record.hpp"

namespace hydra::bridge {

class Entry {
 public:
  // Copies `record`; tenant and service are the stream's.
  Entry(const Record& record, std::string_view tenant, std::string_view service);

  std::uint64_t seq = 0;  // set by the ring
  std::chrono::system_clock::time_point time{};
  Level level = Level::info;
  std::string_view layer, logger, message, tenant, service;
  std::span<const Field> fields;  // values view this entry's storage

  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  // What the entry holds, for the ring's byte bound.
  std::size_t bytes() const noexcept { return sizeof(Entry) + storage_size_; }

  // The record's JSON members after "seq" and "sub" (time, level, layer,
  // logger, message, redacted, fields, service, tenant), rendered on first
  // use. Not thread-safe: only the bridge's own thread calls it.
  const std::string& json_members() const;

 private:
  // One allocation for the fields (trivially copyable) and then every
  // string's bytes: the backend thread copies each record it hands the
  // bridge, so that copy costs one allocation beside the shared block.
  std::unique_ptr<std::byte[]> storage_;
  std::size_t storage_size_ = 0;
  mutable std::string json_;
};

using EntryPtr = std::shared_ptr<const Entry>;

// Where `message` holds redaction tokens ("[REDACTED_EMAIL]"): the byte
// ranges and the types, as the records frame's `redacted` lists them.
struct RedactedSpan {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string_view type;
};
std::vector<RedactedSpan> redacted_spans(std::string_view message);

}  // namespace hydra::bridge
