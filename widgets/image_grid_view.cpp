#include "widgets/image_grid_view.h"

#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QStyledItemDelegate>

#include "widgets/palette.h"

namespace bp::widgets {

// Paints one grid cell: a rounded highlight when hovered or selected, the thumbnail centred
// without filtering (it is already at its final size), and the elided label underneath.
class ThumbnailDelegate : public QStyledItemDelegate {
public:
  explicit ThumbnailDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

  void setThumbnailSize(int pixels) { thumbnailSize_ = pixels; }

  QSize cellSize(const QFontMetrics& metrics) const {
    return {thumbnailSize_ + 2 * kPadding, thumbnailSize_ + 2 * kPadding + metrics.height() + kLabelGap};
  }

  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
    return cellSize(option.fontMetrics);
  }

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, true);
    painter->setRenderHint(QPainter::SmoothPixmapTransform, false);

    const QRectF cell = QRectF(option.rect).adjusted(2.5, 2.5, -2.5, -2.5);
    const bool selected = option.state.testFlag(QStyle::State_Selected);
    const bool hovered = option.state.testFlag(QStyle::State_MouseOver);
    if (selected || hovered) {
      QColor fill = selected ? palette::accent() : palette::grid();
      fill.setAlpha(selected ? 48 : 140);
      painter->setBrush(fill);
      painter->setPen(selected ? QPen(palette::accent(), 1.5) : Qt::NoPen);
      painter->drawRoundedRect(cell, 5, 5);
    }

    const QRect thumbArea(option.rect.left() + kPadding, option.rect.top() + kPadding, thumbnailSize_,
                          thumbnailSize_);
    const QPixmap pixmap = index.data(Qt::DecorationRole).value<QPixmap>();
    if (!pixmap.isNull()) {
      const QSize size = (QSizeF(pixmap.size()) / pixmap.devicePixelRatio()).toSize();
      QRect target(QPoint(0, 0), size);
      target.moveCenter(thumbArea.center());
      painter->setRenderHint(QPainter::Antialiasing, false);
      painter->drawPixmap(target.topLeft(), pixmap);
      painter->setPen(QPen(QColor(0, 0, 0, 40), 1));
      painter->setBrush(Qt::NoBrush);
      painter->drawRect(target.adjusted(0, 0, -1, -1));
    }

    const QString label = index.data(Qt::DisplayRole).toString();
    if (!label.isEmpty()) {
      const QRect textRect(option.rect.left() + 3, thumbArea.bottom() + kLabelGap, option.rect.width() - 6,
                           option.fontMetrics.height());
      painter->setPen(selected ? palette::accent().darker(130) : palette::text());
      painter->setFont(option.font);
      painter->drawText(textRect, Qt::AlignHCenter | Qt::AlignVCenter,
                        option.fontMetrics.elidedText(label, Qt::ElideMiddle, textRect.width()));
    }
    painter->restore();
  }

private:
  static constexpr int kPadding = 6;
  static constexpr int kLabelGap = 3;
  int thumbnailSize_ = 72;
};

ImageGridView::ImageGridView(QWidget* parent)
    : QListView(parent), model_(new ImageGridModel(this)), delegate_(new ThumbnailDelegate(this)) {
  setViewMode(QListView::IconMode);
  setMovement(QListView::Static);
  setFlow(QListView::LeftToRight);
  setWrapping(true);
  setResizeMode(QListView::Adjust);
  setUniformItemSizes(true);
  setSpacing(0);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setDragEnabled(false);
  setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  setMouseTracking(true);
  viewport()->setAttribute(Qt::WA_Hover, true);
  setItemDelegate(delegate_);
  setModel(model_);
  // The focus frame's "current index" may sit on an unselected item (Qt puts it on the first item
  // when the view gains focus): only a selected current item counts.
  connect(selectionModel(), &QItemSelectionModel::currentChanged, this, &ImageGridView::emitIfCurrentIdChanged);
  connect(selectionModel(), &QItemSelectionModel::selectionChanged, this, &ImageGridView::emitIfCurrentIdChanged);
  setThumbnailSize(72);
}

void ImageGridView::setItems(QVector<ImageGridItem> items) {
  const qint64 previous = currentId();
  model_->setItems(std::move(items));  // a model reset clears the current index without signals
  const int row = model_->rowOf(previous);
  if (row >= 0) {
    const QSignalBlocker blocker(selectionModel());
    selectionModel()->setCurrentIndex(model_->index(row), QItemSelectionModel::ClearAndSelect);
  }
  emitIfCurrentIdChanged();
}

int ImageGridView::itemCount() const { return model_->rowCount(); }

void ImageGridView::setThumbnailSize(int pixels) {
  model_->setThumbnailSize(pixels, devicePixelRatioF());
  delegate_->setThumbnailSize(model_->thumbnailSize());
  updateCellSize();
}

int ImageGridView::thumbnailSize() const { return model_->thumbnailSize(); }

qint64 ImageGridView::currentId() const {
  const QModelIndex current = currentIndex();
  return current.isValid() && selectionModel()->isSelected(current) ? model_->idAt(current.row()) : -1;
}

void ImageGridView::setCurrentId(qint64 id) {
  const int row = model_->rowOf(id);
  if (row < 0) {
    selectionModel()->clear();
  } else {
    const QModelIndex index = model_->index(row);
    selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
    scrollTo(index, QAbstractItemView::EnsureVisible);
  }
  emitIfCurrentIdChanged();
}

void ImageGridView::emitIfCurrentIdChanged() {
  const qint64 id = currentId();
  if (id == lastEmittedId_) return;
  lastEmittedId_ = id;
  Q_EMIT currentIdChanged(id);
}

void ImageGridView::updateCellSize() {
  const QSize cell = delegate_->cellSize(fontMetrics());
  setGridSize(cell);
  setIconSize(QSize(model_->thumbnailSize(), model_->thumbnailSize()));
  verticalScrollBar()->setSingleStep(qMax(1, cell.height() / 3));
  scheduleDelayedItemsLayout();
}

}  // namespace bp::widgets
