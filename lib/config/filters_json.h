// Private to lib/config: the "filters" object's parser (its signature takes
// nlohmann::json, which installed headers do not expose). See filters.hpp.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "config/filters.hpp"

namespace dpdkstack {

// `j` is the "filters" object; `path` its JSON path ("$.filters"); nports
// the number of configured ports (in_port / out_port index them).
Result<FilterConfig> parse_filters(const nlohmann::json& j, const std::string& path, size_t nports);

}  // namespace dpdkstack
