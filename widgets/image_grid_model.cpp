#include "widgets/image_grid_model.h"

#include <QtMath>

namespace bp::widgets {
namespace {

constexpr int kThumbnailCacheKiB = 96 * 1024;

// Scales to fit a square of `target` device pixels. Enlarging uses nearest-neighbour so the pixels
// of small stimuli (28x28, 32x32) stay crisp; shrinking large photos uses smooth filtering.
QImage scaledThumbnail(const QImage& image, int target) {
  const QSize size = image.size().scaled(target, target, Qt::KeepAspectRatio);
  const bool enlarging = size.width() >= image.width() && size.height() >= image.height();
  return image.scaled(size, Qt::IgnoreAspectRatio,
                      enlarging ? Qt::FastTransformation : Qt::SmoothTransformation);
}

}  // namespace

ImageGridModel::ImageGridModel(QObject* parent) : QAbstractListModel(parent) {
  thumbnails_.setMaxCost(kThumbnailCacheKiB);
}

void ImageGridModel::setItems(QVector<ImageGridItem> items) {
  beginResetModel();
  items_ = std::move(items);
  rowById_.clear();
  rowById_.reserve(items_.size());
  for (int row = 0; row < items_.size(); ++row) rowById_.insert(items_[row].id, row);
  thumbnails_.clear();
  endResetModel();
}

void ImageGridModel::setThumbnailSize(int pixels, qreal devicePixelRatio) {
  pixels = qMax(8, pixels);
  devicePixelRatio = devicePixelRatio > 0 ? devicePixelRatio : 1.0;
  if (pixels == thumbnailSize_ && qFuzzyCompare(devicePixelRatio, devicePixelRatio_)) return;
  thumbnailSize_ = pixels;
  devicePixelRatio_ = devicePixelRatio;
  thumbnails_.clear();
  if (!items_.isEmpty()) Q_EMIT dataChanged(index(0), index(rowCount() - 1), {Qt::DecorationRole});
}

int ImageGridModel::rowOf(qint64 id) const { return rowById_.value(id, -1); }

qint64 ImageGridModel::idAt(int row) const {
  return row >= 0 && row < items_.size() ? items_[row].id : -1;
}

QPixmap ImageGridModel::thumbnail(int row) const {
  if (row < 0 || row >= items_.size()) return {};
  if (const QPixmap* cached = thumbnails_.object(row)) return *cached;
  const QImage& image = items_[row].image;
  if (image.isNull()) return {};

  const int target = qRound(thumbnailSize_ * devicePixelRatio_);
  QPixmap pixmap = QPixmap::fromImage(scaledThumbnail(image, target));
  pixmap.setDevicePixelRatio(devicePixelRatio_);
  const qint64 bytes = qint64(pixmap.width()) * pixmap.height() * qMax(1, pixmap.depth() / 8);
  thumbnails_.insert(row, new QPixmap(pixmap), static_cast<int>(qMax<qint64>(1, bytes / 1024)));
  return pixmap;
}

int ImageGridModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(items_.size());
}

QVariant ImageGridModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= items_.size()) return {};
  const ImageGridItem& item = items_[index.row()];
  switch (role) {
    case Qt::DisplayRole: return item.label;
    case Qt::ToolTipRole: return item.toolTip.isEmpty() ? item.label : item.toolTip;
    case Qt::DecorationRole: return thumbnail(index.row());
    case IdRole: return item.id;
    default: return {};
  }
}

Qt::ItemFlags ImageGridModel::flags(const QModelIndex& index) const {
  return index.isValid() ? Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren
                         : Qt::NoItemFlags;
}

}  // namespace bp::widgets
