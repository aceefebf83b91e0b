#pragma once
// Help > About: what BrainPrior is and the versions, threads, device and BLAS it runs with.
#include <QDialog>

namespace bp::app {

class AboutDialog : public QDialog {
  Q_OBJECT
public:
  explicit AboutDialog(QWidget* parent = nullptr);
  // The same facts as rich text (also used by tests).
  static QString aboutHtml();
};

}  // namespace bp::app
