// renderReportHtml and writeReportHtml: the one HTML writer of reports, for browsers and for Qt's
// rich text (which the PDF is printed from).
#include <cctype>

#include "report/base64.h"
#include "report/report.h"
#include "report/text_format.h"
#include "runtime/atomic_file.h"

namespace bp {
namespace {

constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d1d1f; background: #ffffff; max-width: 60rem; margin: 2rem auto; padding: 0 1.25rem;
       line-height: 1.5; font-size: 15px; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d4da; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.meta { color: #5f6672; margin-top: 0; }
nav ol { padding-left: 1.4rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d4da; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #e8ebf0; }
tr.odd td { background: #f5f7fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.caption { color: #4a505a; font-size: 0.9rem; margin: 0.2rem 0 0.4rem; }
.figure { margin: 1rem 0 1.6rem; }
.figure img { max-width: 100%; height: auto; border: 1px solid #e3e6ea; }
pre { background: #f5f7fa; border: 1px solid #e3e6ea; padding: 0.6rem; font-size: 0.8rem; overflow-x: auto;
      white-space: pre-wrap; }
summary { font-weight: 600; cursor: pointer; margin: 0.4rem 0; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  .figure, table { break-inside: avoid; }
  nav { display: none; }
}
)";

// Numbers (and "—", "∞", "a ± b") are right-aligned; text is not.
bool isNumeric(const std::string& cell) {
  if (cell.empty()) return false;
  if (cell == "\u2014" || cell == "\u221e") return true;
  const char first = cell.front();
  if (!std::isdigit(static_cast<unsigned char>(first)) && first != '-' && first != '+' && first != '.' &&
      cell.rfind("\u2212", 0) != 0)
    return false;
  int pointsInToken = 0;  // a version such as 0.1.0 is text
  for (const char c : cell) {
    if (std::isalpha(static_cast<unsigned char>(c)) && c != 'e') return false;
    pointsInToken = c == '.' ? pointsInToken + 1 : c == ' ' || c == ',' ? 0 : pointsInToken;
    if (pointsInToken > 1) return false;
  }
  return true;
}

std::string dataUrl(const ReportFigure& figure) {
  if (!figure.svg.empty()) return "data:image/svg+xml;base64," + encodeBase64(figure.svg);
  return "data:image/png;base64," + encodeBase64(figure.png.data(), figure.png.size());
}

std::string renderTable(const ReportTable& table) {
  std::string html;
  if (!table.caption.empty()) html += "<p class=\"caption\"><b>" + escapeHtml(table.caption) + "</b></p>\n";
  html += "<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\">\n<thead><tr>";
  for (const auto& cell : table.header) html += "<th bgcolor=\"#e8ebf0\">" + escapeHtml(cell) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const bool odd = r % 2 == 1;
    html += odd ? "<tr class=\"odd\">" : "<tr>";
    for (const auto& cell : table.rows[r]) {
      html += "<td";
      if (isNumeric(cell)) html += " class=\"num\" align=\"right\"";
      if (odd) html += " bgcolor=\"#f5f7fa\"";
      html += ">" + escapeHtml(cell) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</tbody>\n</table>\n";
}

}  // namespace

std::size_t figureCount(const Report& report) {
  std::size_t count = 0;
  for (const auto& section : report.sections) count += section.figures.size();
  return count;
}

std::string renderReportHtml(const Report& report, const ReportFigureSource& figureSource) {
  const std::string title = escapeHtml(report.title);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"BrainPrior\">\n<title>" +
      title + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + title + "</h1>\n";
  if (!report.created.empty()) html += "<p class=\"meta\">Made " + escapeHtml(report.created) + "</p>\n";
  html += "<nav><ol>\n";
  for (std::size_t s = 0; s < report.sections.size(); ++s)
    html += "<li><a href=\"#section-" + std::to_string(s + 1) + "\">" + escapeHtml(report.sections[s].title) +
            "</a></li>\n";
  html += "</ol></nav>\n";

  std::size_t figureIndex = 0;
  for (std::size_t s = 0; s < report.sections.size(); ++s) {
    const ReportSection& section = report.sections[s];
    html += "<section>\n<h2 id=\"section-" + std::to_string(s + 1) + "\"><a name=\"section-" + std::to_string(s + 1) +
            "\"></a>" + escapeHtml(section.title) + "</h2>\n";
    for (const auto& paragraph : section.paragraphs) html += "<p>" + escapeHtml(paragraph) + "</p>\n";
    for (const auto& table : section.tables) html += renderTable(table);
    for (const auto& figure : section.figures) {
      const std::string source = figureSource ? figureSource(figure, figureIndex) : dataUrl(figure);
      ++figureIndex;
      html += "<div class=\"figure\"><img src=\"" + escapeHtml(source) + "\"";
      if (figure.width > 0) html += " width=\"" + std::to_string(figure.width) + "\"";
      if (figure.height > 0) html += " height=\"" + std::to_string(figure.height) + "\"";
      html += " alt=\"" + escapeHtml(figure.caption) + "\">\n<p class=\"caption\"><b>Figure " +
              std::to_string(figureIndex) + ".</b> " + escapeHtml(figure.caption) + "</p></div>\n";
    }
    // Folded: a reader opens the config they need instead of scrolling past all of them.
    for (const auto& listing : section.listings)
      html += "<details><summary>" + escapeHtml(listing.title) + "</summary>\n<pre>" + escapeHtml(listing.text) +
              "</pre></details>\n";
    html += "</section>\n";
  }
  return html + "</body>\n</html>\n";
}

void writeReportHtml(const Report& report, const std::filesystem::path& file) {
  writeFileAtomically(file, renderReportHtml(report));
}

}  // namespace bp
