#include "app/about_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>
#include "widgets/custom_plot.h"

#include "runtime/runtime.h"

namespace bp::app {

QString AboutDialog::aboutHtml() {
  const auto& info = bp::runtimeInfo();
  const auto row = [](const QString& key, const QString& value) {
    return QStringLiteral("<tr><td style='padding-right:16px'><b>%1</b></td><td>%2</td></tr>").arg(key, value.toHtmlEscaped());
  };
  QString html = QStringLiteral("<h2>BrainPrior %1</h2><p>Brain data as a prior for neural networks: neural similarity, "
                                "predictive models of neurons, regularized training and robustness probes.</p><table>")
                     .arg(QString::fromStdString(info.brainpriorVersion));
  html += row(QStringLiteral("Device"), QString::fromStdString(info.device) +
                                            (info.cudaAvailable ? QStringLiteral(" (CUDA available)") : QStringLiteral(" (no CUDA)")));
  html += row(QStringLiteral("CPU threads"), QString::number(info.threads));
  html += row(QStringLiteral("BLAS"), QStringLiteral("%1, %2 GFLOP/s (512² matmul)")
                                          .arg(QString::fromStdString(info.blas.name))
                                          .arg(info.blas.measuredGflops, 0, 'f', 1));
  html += row(QStringLiteral("BLAS library"), QString::fromStdString(info.blas.library));
  html += row(QStringLiteral("Qt"), QString::fromLatin1(qVersion()));
  html += row(QStringLiteral("LibTorch"), QString::fromStdString(info.libtorchVersion));
  html += row(QStringLiteral("OpenCV"), QString::fromStdString(info.opencvVersion));
  html += row(QStringLiteral("HDF5"), QString::fromStdString(info.hdf5Version));
  html += row(QStringLiteral("QCustomPlot"), QStringLiteral(QCUSTOMPLOT_VERSION_STR));
  html += row(QStringLiteral("Compiler"), QString::fromStdString(info.compiler));
  html += QStringLiteral("</table>");
  for (const auto& warning : info.warnings)
    html += QStringLiteral("<p style='color:#c00000'><b>Warning:</b> %1</p>").arg(QString::fromStdString(warning).toHtmlEscaped());
  return html;
}

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("About BrainPrior"));
  auto* layout = new QVBoxLayout(this);
  auto* text = new QLabel(aboutHtml(), this);
  text->setTextInteractionFlags(Qt::TextSelectableByMouse);
  text->setWordWrap(true);
  layout->addWidget(text);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  layout->addWidget(buttons);
}

}  // namespace bp::app
