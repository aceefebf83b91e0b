#pragma once
// The one timestamp format of every file the engine writes (provenance, run summaries, projects,
// reports): ISO 8601 in UTC to the second, e.g. "2026-11-30T22:40:00Z".
#include <string>

namespace bp {

std::string utcTimestamp();

}  // namespace bp
