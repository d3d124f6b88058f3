#include "builtins.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytics/rates.hpp"
#include "analytics/security_bursts.hpp"

namespace hydra::plugin {
namespace {

std::size_t size_of(const Options& options, std::string_view key) {
  return static_cast<std::size_t>(options.integer(key));
}

TypeInfo rates_type() {
  return {
      .kind = Kind::analytics,
      .name = "rates",
      .description =
          "records counted by layer and level, rates per layer over a window, and "
          "the most frequent message templates",
      .options =
          {
              {.name = "top",
               .type = OptionType::integer,
               .default_value = "10",
               .doc = "how many of the most frequent templates insights() shows",
               .min = 1,
               .max = 1000},
              {.name = "window",
               .type = OptionType::duration,
               .default_value = "60s",
               .doc = "the window rate_per_s is measured over",
               .min = 1000,
               .max = 86'400'000},
              {.name = "max_templates",
               .type = OptionType::integer,
               .default_value = "1000",
               .doc = "how many distinct templates are tracked at most (bounds the memory)",
               .min = 1,
               .max = 1'000'000},
          },
      .origin = "built-in",
  };
}

TypeInfo security_bursts_type() {
  return {
      .kind = Kind::analytics,
      .name = std::string(analytics::SecurityBursts::kName),
      .description = "failed-login bursts per user or IP address, written as security records",
      .options =
          {
              {.name = "threshold",
               .type = OptionType::integer,
               .default_value = "5",
               .doc = "failures within the window that make a burst",
               .min = 1,
               .max = 1'000'000},
              {.name = "window",
               .type = OptionType::duration,
               .default_value = "60s",
               .doc = "the window failures are counted over",
               .min = 1000,
               .max = 86'400'000},
              {.name = "keys",
               .type = OptionType::string_list,
               .default_value = "user,ip",
               .doc = "the fields that say who failed (counted per field and value)"},
              {.name = "match",
               .type = OptionType::string_list,
               .default_value = "login failed,authentication failed,invalid password",
               .doc = "phrases (case-insensitive) that mark a message as a failed login; so do "
                      "the fields event=login_failed and outcome=failure"},
              {.name = "max_tracked",
               .type = OptionType::integer,
               .default_value = "10000",
               .doc = "how many field values are tracked at most (bounds the memory)",
               .min = 1,
               .max = 10'000'000},
          },
      .origin = "built-in",
  };
}

}  // namespace

void register_builtin_analytics(Registry& registry) {
  registry.add_analytics(rates_type(), [](const Options& o) -> std::shared_ptr<Analytics> {
    return std::make_shared<analytics::Rates>(analytics::RatesSettings{
        .top = size_of(o, "top"),
        .window = o.duration("window"),
        .max_templates = size_of(o, "max_templates"),
    });
  });
  registry.add_analytics(
      security_bursts_type(), [](const Options& o) -> std::shared_ptr<Analytics> {
        return std::make_shared<analytics::SecurityBursts>(analytics::SecurityBurstsSettings{
            .threshold = size_of(o, "threshold"),
            .window = o.duration("window"),
            .keys = o.list("keys"),
            .match = o.list("match"),
            .max_tracked = size_of(o, "max_tracked"),
        });
      });
}

}  // namespace hydra::plugin

namespace hydra::plugin::detail {

void register_builtins(Registry& registry) {
  register_builtin_analytics(registry);
}

}  // namespace hydra::plugin::detail
