#include "runtime/log.h"

#include <atomic>
#include <iostream>
#include <mutex>

namespace bp {
namespace {

std::mutex& sinkMutex() {
  static std::mutex mutex;
  return mutex;
}

LogSink& currentSink() {
  static LogSink sink;
  return sink;
}

std::atomic<bool>& discarding() {
  static std::atomic<bool> discard{false};
  return discard;
}

}  // namespace

const char* logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "info";
}

void setLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sinkMutex());
  currentSink() = std::move(sink);
}

void discardLogMessages() { discarding() = true; }

void log(LogLevel level, const std::string& message) {
  if (discarding()) return;
  std::lock_guard<std::mutex> lock(sinkMutex());
  if (currentSink()) {
    currentSink()(level, message);
    return;
  }
  if (level == LogLevel::Debug) return;
  std::cerr << "[" << logLevelName(level) << "] " << message << '\n';
}

}  // namespace bp
