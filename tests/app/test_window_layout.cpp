// The window fits the screens people have: every tab on a 1280x720 laptop in normal mode, and on a
// 1920x1080 projector and the laptop in presentation mode, with data loaded and matrices shown. A
// tab fits when its page needs no scrolling and no widget is squeezed below its minimum size (that
// is what clipped labels and overlapping axes look like to a layout). Also: the mouse wheel scrolls
// a form instead of changing the field under the cursor.
#include <QAbstractScrollArea>
#include <QApplication>
#include <QLabel>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QWheelEvent>
#include <QtTest>
#include <functional>

#include "app/main_window.h"
#include "app/similarity_panel.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/workspace.h"
#include "data/neural_dataset.h"
#include "test_registry.h"

using bp::app::MainWindow;
using bp::app::Workspace;

namespace {

const QStringList kPanels{QStringLiteral("data"),  QStringLiteral("similarity"), QStringLiteral("models"),
                          QStringLiteral("training"), QStringLiteral("probe"), QStringLiteral("comparison"),
                          QStringLiteral("images"), QStringLiteral("demo")};

QString describe(const QWidget* widget) {
  const QString name = widget->objectName().isEmpty() ? QString() : QStringLiteral(" '%1'").arg(widget->objectName());
  return QString::fromLatin1(widget->metaObject()->className()) + name;
}

QString sizeText(const QSize& size) { return QStringLiteral("%1x%2").arg(size.width()).arg(size.height()); }

bool layoutHolds(const QLayout* layout, const QWidget* widget) {
  for (int i = 0; i < layout->count(); ++i) {
    QLayoutItem* item = layout->itemAt(i);
    if (item->widget() == widget || (item->layout() != nullptr && layoutHolds(item->layout(), widget))) return true;
  }
  return false;
}

// Placed by a layout or a splitter, which should give it at least its minimum size; the parts of a
// composite widget (a spin box's line edit, a table's header) are placed by their widget instead.
bool placedByLayout(const QWidget* widget) {
  const QWidget* parent = widget->parentWidget();
  if (parent == nullptr) return false;
  if (const auto* splitter = qobject_cast<const QSplitter*>(parent)) return splitter->indexOf(const_cast<QWidget*>(widget)) >= 0;
  return parent->layout() != nullptr && layoutHolds(parent->layout(), widget);
}

// The smallest size a layout gives a widget (what Qt's layouts compute): an explicit minimum size
// wins over the hint, per dimension; an Ignored policy has none; a maximum size caps it.
QSize layoutMinimum(const QWidget* widget) {
  const QSize hint = widget->minimumSizeHint();
  const QSize set = widget->minimumSize();
  const QSizePolicy policy = widget->sizePolicy();
  const int width = set.width() > 0 ? set.width() : policy.horizontalPolicy() == QSizePolicy::Ignored ? 0 : hint.width();
  const int height = set.height() > 0 ? set.height() : policy.verticalPolicy() == QSizePolicy::Ignored ? 0 : hint.height();
  return QSize(width, height).boundedTo(widget->maximumSize());
}

// Lays out everything that is pending, as a shown window would before painting.
void settle() {
  for (int i = 0; i < 3; ++i) {
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    QCoreApplication::processEvents();
  }
}

// What does not fit in the panel shown now: its page scrolls, a form is clipped sideways, or a
// visible widget is smaller than its minimum size hint.
QStringList misfitsOfCurrentPanel(const MainWindow& window) {
  QStringList misfits;
  QWidget* panel = window.currentPanel();
  const QScrollArea* page = nullptr;
  for (QWidget* ancestor = panel->parentWidget(); page == nullptr && ancestor != nullptr;
       ancestor = ancestor->parentWidget())
    page = qobject_cast<const QScrollArea*>(ancestor);
  const QSize pageContent = page->widget()->size();
  const QSize viewport = page->viewport()->size();
  if (pageContent.width() > viewport.width() || pageContent.height() > viewport.height()) {
    misfits << QStringLiteral("the page scrolls: is %1 (at least %2), has %3")
                   .arg(sizeText(pageContent), sizeText(panel->minimumSizeHint()), sizeText(viewport));
    // Which widgets ask for the room: the tree of minimum sizes, for whoever fixes it.
    const std::function<void(const QWidget*, int)> printTree = [&](const QWidget* widget, int depth) {
      if (depth > 6 || !widget->isVisibleTo(panel)) return;
      qWarning("%s%s: minimum %s, size %s", QByteArray(depth * 2, ' ').constData(), qPrintable(describe(widget)),
               qPrintable(sizeText(widget->minimumSizeHint())), qPrintable(sizeText(widget->size())));
      for (const QObject* child : widget->children())
        if (const auto* childWidget = qobject_cast<const QWidget*>(child)) printTree(childWidget, depth + 1);
    };
    printTree(panel, 0);
  }
  for (const QWidget* widget : panel->findChildren<QWidget*>()) {
    if (!widget->isVisibleTo(panel)) continue;
    if (const auto* area = qobject_cast<const QScrollArea*>(widget);
        area != nullptr && area->widget() != nullptr && area->horizontalScrollBarPolicy() == Qt::ScrollBarAlwaysOff &&
        area->widget()->width() > area->viewport()->width())
      misfits << QStringLiteral("%1 clips its content sideways: %2 in %3")
                     .arg(describe(area))
                     .arg(area->widget()->width())
                     .arg(area->viewport()->width());
    if (const auto* label = qobject_cast<const QLabel*>(widget);
        label != nullptr && label->wordWrap() && !label->text().isEmpty() &&
        label->height() < label->heightForWidth(label->width()))
      misfits << QStringLiteral("%1 cuts its text: %2 high, needs %3")
                     .arg(describe(label))
                     .arg(label->height())
                     .arg(label->heightForWidth(label->width()));
    const QSize minimum = layoutMinimum(widget);
    if (!minimum.isValid() || !placedByLayout(widget)) continue;
    if (widget->width() < minimum.width() || widget->height() < minimum.height())
      misfits << QStringLiteral("%1 squeezed to %2, needs %3")
                     .arg(describe(widget), sizeText(widget->size()), sizeText(minimum));
  }
  return misfits;
}

QStringList misfitsOfEveryPanel(MainWindow& window, const QString& where) {
  QStringList misfits;
  for (const QString& name : kPanels) {
    window.showPanel(name);
    settle();
    for (const QString& misfit : misfitsOfCurrentPanel(window)) misfits << where + QStringLiteral(", ") + name + QStringLiteral(": ") + misfit;
  }
  return misfits;
}

QScreen* screenNamed(const QString& name) {
  for (QScreen* screen : QGuiApplication::screens())
    if (screen->name() == name) return screen;
  return nullptr;
}

}  // namespace

class WindowLayoutTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    laptop_ = screenNamed(QStringLiteral("laptop"));
    projector_ = screenNamed(QStringLiteral("projector"));
    QVERIFY2(laptop_ && projector_, "the tests' screens come from tests/support/screens.json");
    QCOMPARE(laptop_->size(), QSize(1280, 720));
    QCOMPARE(projector_->size(), QSize(1920, 1080));
  }

  void presentationFontsGrowWithTheScreen() {
    QCOMPARE(bp::app::presentationFontScale(1080), 1.5);
    QCOMPARE(bp::app::presentationFontScale(2160), 1.5);
    QCOMPARE(bp::app::presentationFontScale(720), 1.0);
    QCOMPARE(bp::app::presentationFontScale(900), 1.25);
  }

  void everyTabFitsALaptopAndAProjector() {
    MainWindow window({});
    window.setScreen(laptop_);
    window.move(laptop_->geometry().topLeft());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // Opened on a laptop, the window starts no larger than the screen.
    QVERIFY2(window.width() <= 1280 && window.height() <= 720, qPrintable(sizeText(window.size())));
    fillWithData(window);

    window.resize(1280, 720);
    settle();
    QCOMPARE(window.size(), QSize(1280, 720));
    QStringList misfits = misfitsOfEveryPanel(window, QStringLiteral("laptop"));

    for (QScreen* screen : {projector_, laptop_}) {
      window.setScreen(screen);
      window.move(screen->geometry().topLeft());
      settle();
      window.setPresentationMode(true);
      settle();
      QCOMPARE(window.size(), screen->size());
      misfits += misfitsOfEveryPanel(window, QStringLiteral("presentation on ") + screen->name());
      window.setPresentationMode(false);
      settle();
    }
    for (const QString& misfit : misfits) qWarning("%s", qPrintable(misfit));
    QVERIFY2(misfits.isEmpty(), qPrintable(QStringLiteral("%1 misfits (listed above)").arg(misfits.size())));
  }

  void theWheelScrollsAFormInsteadOfChangingAField() {
    MainWindow window({});
    window.setScreen(laptop_);
    window.show();
    window.resize(1280, 720);
    window.showPanel(QStringLiteral("training"));
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    settle();
    auto* batchSize = window.trainingPanel()->launchForm()->findChild<QSpinBox*>(QStringLiteral("batchSize"));
    QVERIFY(batchSize);
    QCOMPARE(batchSize->focusPolicy(), Qt::StrongFocus);
    const int before = batchSize->value();
    const auto wheel = [&] {
      const QPointF centre(batchSize->width() / 2.0, batchSize->height() / 2.0);
      QWheelEvent event(centre, batchSize->mapToGlobal(centre), QPoint(), QPoint(0, -120), Qt::NoButton,
                        Qt::NoModifier, Qt::NoScrollPhase, false);
      QApplication::sendEvent(batchSize, &event);
    };
    QAbstractScrollArea* form = nullptr;
    for (QWidget* ancestor = batchSize->parentWidget(); form == nullptr && ancestor != nullptr;
         ancestor = ancestor->parentWidget())
      form = qobject_cast<QAbstractScrollArea*>(ancestor);
    QVERIFY(form);
    const int scrolled = form->verticalScrollBar()->value();
    wheel();
    QCOMPARE(batchSize->value(), before);  // unchanged: the form scrolled instead
    if (form->verticalScrollBar()->maximum() > scrolled) QVERIFY(form->verticalScrollBar()->value() > scrolled);
    // Once the user clicks into the field, the wheel is theirs to change it.
    batchSize->setFocus();
    QTRY_VERIFY(batchSize->hasFocus());
    wheel();
    QCOMPARE(batchSize->value(), before - batchSize->singleStep());
  }

private:
  // The default data, and matrices A and B on the Similarity tab, as a user would have them.
  static void fillWithData(MainWindow& window) {
    QSignalSpy loaded(&window.workspace(), &Workspace::neuralDataChanged);
    window.loadDefaultData();
    QVERIFY(loaded.wait(120000));
    auto* similarity = window.similarityPanel();
    QSignalSpy computed(&window.workspace(), &Workspace::similarityChanged);
    similarity->tierBox()->setCurrentIndex(similarity->tierBox()->findData(static_cast<int>(bp::Tier::Test)));
    similarity->computeInto(Workspace::A);
    QTRY_VERIFY_WITH_TIMEOUT(window.workspace().similarity(Workspace::A).matrix != nullptr, 120000);
    similarity->rowsBox()->setCurrentIndex(1);
    similarity->computeInto(Workspace::B);
    QTRY_VERIFY_WITH_TIMEOUT(window.workspace().similarity(Workspace::B).matrix != nullptr, 120000);
  }

  QScreen* laptop_ = nullptr;
  QScreen* projector_ = nullptr;
};

BRAINPRIOR_TEST_CLASS(WindowLayoutTest)
#include "test_window_layout.moc"
