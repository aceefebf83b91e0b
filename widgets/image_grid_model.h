#pragma once
// The list model behind ImageGridView: one row per image with its label, tool tip and id. The
// thumbnail (Qt::DecorationRole) is scaled lazily on first request and kept in a bounded cache,
// so tens of thousands of items cost only their source images until they are scrolled into view.
#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QImage>
#include <QPixmap>
#include <QString>
#include <QVector>

namespace bp::widgets {

struct ImageGridItem {
  QImage image;
  QString label;
  QString toolTip;
  qint64 id = -1;
};

class ImageGridModel : public QAbstractListModel {
  Q_OBJECT

public:
  enum Role { IdRole = Qt::UserRole + 1 };

  explicit ImageGridModel(QObject* parent = nullptr);

  void setItems(QVector<ImageGridItem> items);
  const QVector<ImageGridItem>& items() const { return items_; }

  // Longest side of a thumbnail in device-independent pixels, and the screen's pixel ratio.
  void setThumbnailSize(int pixels, qreal devicePixelRatio = 1.0);
  int thumbnailSize() const { return thumbnailSize_; }

  // Row of the item with this id, or -1.
  int rowOf(qint64 id) const;
  qint64 idAt(int row) const;

  // The cached (or freshly scaled) thumbnail of a row; null for a null image.
  QPixmap thumbnail(int row) const;
  int cachedThumbnailCount() const { return static_cast<int>(thumbnails_.count()); }

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

private:
  QVector<ImageGridItem> items_;
  QHash<qint64, int> rowById_;
  int thumbnailSize_ = 72;
  qreal devicePixelRatio_ = 1.0;
  mutable QCache<int, QPixmap> thumbnails_;  // row -> thumbnail; cost in KiB
};

}  // namespace bp::widgets
