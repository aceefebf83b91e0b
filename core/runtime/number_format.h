#pragma once
// Numbers written the same way whatever the process's C locale (the GUI runs with the user's
// locale, which may write 0,5 for 0.5): for logs, warnings, reports and the CLI.
#include <string>

namespace bp {

// `value` with `decimals` digits after the point ("0.8125"); "—" for NaN, "∞" / "−∞" for infinities.
std::string formatFixed(double value, int decimals);
// Six decimals at most, without trailing zeros: "0.5", "20", "0.001" (names and descriptions).
std::string formatCompact(double value);
// "mean ± sem" with `decimals` digits; the mean alone when sem is not finite (one seed).
std::string formatMeanSem(double mean, double sem, int decimals);

}  // namespace bp
