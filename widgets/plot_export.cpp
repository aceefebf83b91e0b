#include "widgets/plot_export.h"

#include "widgets/custom_plot.h"

#include <QFileInfo>
#include <QSvgGenerator>
#include <QTemporaryFile>
#include <cmath>
#include <filesystem>

namespace bp::widgets {
namespace {

constexpr int kFallbackWidth = 800;
constexpr int kFallbackHeight = 600;
constexpr int kScreenDpi = 96;

bool fail(QString* error, const QString& message) {
  if (error) *error = message;
  return false;
}

bool writeSvg(QCustomPlot* plot, const QString& path, const QString& title, int width, int height) {
  QSvgGenerator generator;
  generator.setFileName(path);
  generator.setSize(QSize(width, height));
  generator.setViewBox(QRect(0, 0, width, height));
  generator.setResolution(kScreenDpi);
  generator.setTitle(title);
  generator.setDescription(QStringLiteral("Created by BrainPrior"));
  QCPPainter painter;
  if (!painter.begin(&generator)) return false;
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  plot->toPainter(&painter, width, height);
  return painter.end();
}

}  // namespace

bool exportPlot(QCustomPlot* plot, const QString& path, QString* error, int widthPx, int heightPx, double scale) {
  if (!plot) return fail(error, QStringLiteral("No plot to export."));
  if (path.isEmpty()) return fail(error, QStringLiteral("No file name given."));
  if (!(scale > 0) || !std::isfinite(scale)) return fail(error, QStringLiteral("Invalid scale %1.").arg(scale));

  const QFileInfo target(path);
  const QString suffix = target.suffix().toLower();
  if (suffix != QLatin1String("png") && suffix != QLatin1String("pdf") && suffix != QLatin1String("svg"))
    return fail(error, QStringLiteral("Unsupported figure format '%1': use .png, .pdf or .svg.").arg(target.suffix()));
  if (!target.absoluteDir().exists())
    return fail(error, QStringLiteral("Folder %1 does not exist.").arg(target.absolutePath()));

  // The size of the figure in logical pixels: given, else the plot's, else a sensible default.
  const int width = widthPx > 0 ? widthPx : (plot->width() >= 100 ? plot->width() : kFallbackWidth);
  const int height = heightPx > 0 ? heightPx : (plot->height() >= 100 ? plot->height() : kFallbackHeight);

  QTemporaryFile temporary(target.absolutePath() + QStringLiteral("/.") + target.fileName() +
                           QStringLiteral(".XXXXXX.") + suffix);
  if (!temporary.open())
    return fail(error, QStringLiteral("Cannot write to %1: %2").arg(target.absolutePath(), temporary.errorString()));
  const QString temporaryPath = temporary.fileName();
  temporary.close();

  bool written = false;
  if (suffix == QLatin1String("png")) {
    written = plot->savePng(temporaryPath, width, height, scale, -1, qRound(kScreenDpi * scale), QCP::ruDotsPerInch);
  } else if (suffix == QLatin1String("pdf")) {
    written = plot->savePdf(temporaryPath, width, height, QCP::epNoCosmetic, QStringLiteral("BrainPrior"),
                            target.completeBaseName());
  } else {
    written = writeSvg(plot, temporaryPath, target.completeBaseName(), width, height);
  }
  if (!written || QFileInfo(temporaryPath).size() == 0)
    return fail(error, QStringLiteral("Rendering the figure to %1 failed.").arg(path));

  // QTemporaryFile creates owner-only files; a figure should be as readable as any other file.
  QFile::setPermissions(temporaryPath, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup |
                                           QFileDevice::ReadOther);
  std::error_code ec;
  std::filesystem::rename(std::filesystem::path(temporaryPath.toStdU16String()),
                          std::filesystem::path(target.absoluteFilePath().toStdU16String()), ec);
  if (ec) return fail(error, QStringLiteral("Cannot replace %1: %2").arg(path, QString::fromStdString(ec.message())));
  temporary.setAutoRemove(false);  // it has been renamed into place
  return true;
}

}  // namespace bp::widgets
