// The logger's protect stage backed by the redaction engine:
//
//   hydra::LoggerConfig cfg;
//   cfg.protector = hydra::protect::make_protector();  // the default detectors
//   hydra::Logger log(cfg);
//   log.info("login {user}", "alice@example.com");
//   // message "login [REDACTED_EMAIL]", field user="[REDACTED_EMAIL]"
//
// Every record's message and fields are redacted (string fields by content,
// fields with a sensitive name whole) before any sink sees them, in sync and
// async mode alike. A detector with Action::drop withholds the record from
// every protected destination (counted in Logger::metrics().protect_dropped).
// Layers and destinations may opt out (`protect = false` in LayerConfig or
// DestinationConfig); security, audit and compliance records never skip it.
#pragma once

#include <memory>

#include "hydra/core/protector.hpp"
#include "hydra/protect/redactor.hpp"

namespace hydra::protect {

// Throws hydra::ConfigError for bad options (see Redactor's constructor).
std::shared_ptr<const hydra::Protector> make_protector(RedactorOptions options = {});
// Shares a Redactor built elsewhere (e.g. also used by a tool).
std::shared_ptr<const hydra::Protector> make_protector(std::shared_ptr<const Redactor> redactor);

}  // namespace hydra::protect
