// CSV (RFC 4180), one physical line per record, columns
//   timestamp,level,layer,logger,message,fields,file,line,function,thread
// where `fields` holds the record's fields as a JSON object. Values with a
// comma, quote, CR or LF are quoted; CR and LF are also escaped (\r \n).
#pragma once

#include "hydra/format/formatter.hpp"

namespace hydra {

inline constexpr std::string_view kCsvHeader =
    "timestamp,level,layer,logger,message,fields,file,line,function,thread\n";

class CsvFormatter final : public Formatter {
 public:
  // Reads options.csv_header: when set, header() is kCsvHeader, which the
  // file sinks write at the start of each file (format() never writes it).
  // Reads options.color and palette: when colour is on, the level column is
  // wrapped in its colour (between the commas; the level is never quoted).
  explicit CsvFormatter(const FormatterOptions& options = {});

  void format(const Record& record, Buffer& out) const override;
  std::string_view header() const override;

 private:
  bool header_;
  Palette palette_;  // no colours when colour is off
};

}  // namespace hydra
