// The PDF of a report: a real PDF of several pages with its SVG and PNG figures, and a clear error
// (and no file) for a path that cannot be written.
#include <QBuffer>
#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QtTest>

#include "app/report_pdf.h"
#include "report/svg_chart.h"
#include "test_registry.h"
#include "test_support.h"

namespace {

std::vector<std::uint8_t> pngBytes() {
  QImage image(64, 64, QImage::Format_RGB32);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) image.setPixel(x, y, qRgb(x * 4, y * 4, 128));
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return {bytes.begin(), bytes.end()};
}

// Three sections with long tables, a chart and an image: more than one A4 page.
bp::Report severalSections() {
  bp::Report report;
  report.title = "Report <test>";
  report.created = "2024-01-01T00:00:00Z";
  for (int s = 0; s < 3; ++s) {
    bp::ReportSection section;
    section.title = "Section " + std::to_string(s + 1);
    section.paragraphs.push_back("A paragraph about section " + std::to_string(s + 1) + ".");
    bp::ReportTable table;
    table.caption = "Runs";
    table.header = {"Run", "Seed", "Test accuracy"};
    for (int r = 0; r < 25; ++r) table.rows.push_back({"run-" + std::to_string(r), std::to_string(r), "0.8125"});
    section.tables.push_back(table);
    bp::LineChart chart;
    chart.title = "Test accuracy";
    chart.series.push_back({"run", {1, 2, 3}, {0.5, 0.6, 0.7}, {}, -1, 0});
    bp::ReportFigure svg;
    svg.svg = bp::renderLineChartSvg(chart);
    svg.width = chart.width;
    svg.height = chart.height;
    svg.caption = "A chart.";
    section.figures.push_back(svg);
    bp::ReportFigure png;
    png.png = pngBytes();
    png.width = 256;
    png.height = 256;
    png.caption = "A heatmap.";
    section.figures.push_back(png);
    section.listings.push_back({"Config", "{\n  \"seed\": 1\n}"});
    report.sections.push_back(section);
  }
  return report;
}

}  // namespace

class ReportPdfTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void writesAPdfOfSeveralPages() {
    bp::test::ScratchDir dir;
    const QString path = QString::fromStdString((dir / "report.pdf").string());
    QString error;
    QVERIFY2(writeReportPdf(severalSections(), path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray pdf = file.readAll();
    QVERIFY(pdf.startsWith("%PDF"));
    QVERIFY(pdf.size() > 10000);
    // Page objects, not the /Pages tree.
    const auto pages = QString::fromLatin1(pdf).count(QRegularExpression(QStringLiteral("/Type\\s*/Page(?![s\\w])")));
    QVERIFY2(pages >= 2, qPrintable(QString::number(pages)));
    QVERIFY(pdf.contains("/Image"));  // the figures are in it
  }

  void unwritablePathGivesAnErrorAndNoFile() {
    bp::test::ScratchDir dir;
    const QString path = QString::fromStdString((dir / "missing-folder" / "report.pdf").string());
    QString error;
    QVERIFY(!writeReportPdf(severalSections(), path, &error));
    QVERIFY2(error.contains(QStringLiteral("report.pdf")), qPrintable(error));
    QVERIFY(!QFile::exists(path));
    QVERIFY(!std::filesystem::exists(dir / "missing-folder"));
  }
};

BRAINPRIOR_TEST_CLASS(ReportPdfTest)
#include "test_report_pdf.moc"
