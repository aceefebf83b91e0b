#pragma once
// One logging sink for the engine. The CLI prints to stderr; the GUI installs a sink that feeds its log panel.
#include <functional>
#include <string>

namespace bp {

enum class LogLevel { Debug, Info, Warning, Error };

using LogSink = std::function<void(LogLevel, const std::string&)>;

// Replaces the sink (thread-safe); an empty sink restores the default stderr sink.
void setLogSink(LogSink sink);
void log(LogLevel level, const std::string& message);
inline void logInfo(const std::string& message) { log(LogLevel::Info, message); }
inline void logWarning(const std::string& message) { log(LogLevel::Warning, message); }
const char* logLevelName(LogLevel level);
// From now on log() drops every message without touching the sink or its lock: for a forked helper
// process, which inherits both from a parent whose other threads may have held the lock at the fork
// (and whose sink, in the GUI, talks to the parent's event loop).
void discardLogMessages();

}  // namespace bp
