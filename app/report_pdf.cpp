#include "app/report_pdf.h"

#include <QByteArray>
#include <QImage>
#include <QMarginsF>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgRenderer>
#include <QTextDocument>
#include <QUrl>

namespace {

QString figureName(std::size_t index) {
  return QStringLiteral("figure:%1").arg(index);
}

// Charts are drawn at twice their CSS size so that they stay sharp when printed at 300 dpi.
QImage figureImage(const bp::ReportFigure& figure) {
  if (figure.svg.empty()) {
    QImage image;
    image.loadFromData(figure.png.data(), static_cast<int>(figure.png.size()), "PNG");
    return image;
  }
  QSvgRenderer renderer(QByteArray::fromStdString(figure.svg));
  const QSize size =
      figure.width > 0 && figure.height > 0 ? QSize(figure.width, figure.height) : renderer.defaultSize();
  QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);
  renderer.render(&painter);
  painter.end();
  return image;
}

}  // namespace

bool writeReportPdf(const bp::Report& report, const QString& path, QString* error) {
  QTextDocument document;
  std::size_t index = 0;
  for (const auto& section : report.sections)
    for (const auto& figure : section.figures) {
      const QImage image = figureImage(figure);
      if (image.isNull()) {
        if (error)
          *error = QStringLiteral("figure %1 (%2) could not be drawn")
                       .arg(index + 1)
                       .arg(QString::fromStdString(figure.caption));
        return false;
      }
      document.addResource(QTextDocument::ImageResource, QUrl(figureName(index)), image);
      ++index;
    }
  document.setHtml(QString::fromStdString(bp::renderReportHtml(
      report, [](const bp::ReportFigure&, std::size_t i) { return figureName(i).toStdString(); })));

  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) {
    if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    return false;
  }
  {
    QPdfWriter writer(&file);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    writer.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout::Millimeter);
    writer.setTitle(QString::fromStdString(report.title));
    writer.setCreator(QStringLiteral("BrainPrior"));
    document.print(&writer);
  }  // the writer finishes the PDF when it goes
  if (!file.commit()) {
    if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}
