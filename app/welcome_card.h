#pragma once
// The first start's welcome: one line above the Neural data tab with the three ways in (run the demo, open a
// recording, read the guide). Using any of them or closing the card dismisses it for good
// (settings.h); presentation mode hides it.
#include <QFrame>

namespace bp::app {

class WelcomeCard : public QFrame {
  Q_OBJECT
public:
  explicit WelcomeCard(QWidget* parent = nullptr);

Q_SIGNALS:
  void demoRequested();
  void openRequested();
  void guideRequested();
};

}  // namespace bp::app
