#pragma once
// A report (report/report.h) printed to PDF through Qt's rich text: the same HTML as the HTML
// report, its figures handed to the document as images (SVG charts rendered at twice their size).
#include <QString>

#include "report/report.h"

// Writes `report` to the PDF file `path` (A4, 300 dpi), atomically: on failure the old file, if
// any, is intact and nothing half-written is left. Returns false with a message in `error`.
bool writeReportPdf(const bp::Report& report, const QString& path, QString* error);
