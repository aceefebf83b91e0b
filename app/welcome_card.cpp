#include "app/welcome_card.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>

#include "app/settings.h"

namespace bp::app {

WelcomeCard::WelcomeCard(QWidget* parent) : QFrame(parent) {
  setObjectName(QStringLiteral("welcomeCard"));
  setFrameShape(QFrame::StyledPanel);
  setStyleSheet(QStringLiteral("#welcomeCard{background:#eef5fb;border:1px solid #b9d3ea;border-radius:4px}"));
  auto* text = new QLabel(tr("<b>Welcome to BrainPrior.</b> The default data below is a synthetic V1 population "
                             "with known ground truth."),
                          this);
  text->setWordWrap(true);
  auto* demo = new QPushButton(tr("Run the Demo"), this);
  demo->setToolTip(tr("The whole study of Li et al. 2019 on the default data, narrated step by step (Ctrl+D)"));
  auto* open = new QPushButton(tr("Open a Recording…"), this);
  auto* guide = new QPushButton(tr("User Guide"), this);
  auto* close = new QToolButton(this);
  close->setText(QStringLiteral("×"));
  close->setToolTip(tr("Dismiss; the Help and Demo menus have all of this"));
  close->setAutoRaise(true);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 4, 4);
  layout->addWidget(text, 1);
  layout->addWidget(demo);
  layout->addWidget(open);
  layout->addWidget(guide);
  layout->addWidget(close);

  const auto dismissAnd = [this](void (WelcomeCard::*signal)()) {
    return [this, signal] {
      dismissWelcome();
      hide();
      if (signal != nullptr) Q_EMIT(this->*signal)();
    };
  };
  connect(demo, &QPushButton::clicked, this, dismissAnd(&WelcomeCard::demoRequested));
  connect(open, &QPushButton::clicked, this, dismissAnd(&WelcomeCard::openRequested));
  connect(guide, &QPushButton::clicked, this, dismissAnd(&WelcomeCard::guideRequested));
  connect(close, &QToolButton::clicked, this, dismissAnd(nullptr));
}

}  // namespace bp::app
