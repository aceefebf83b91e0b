#pragma once
// A scrolling grid of image thumbnails with labels (stimuli, MEIs, misclassified examples): one
// item-view row per image, no per-item widgets, thumbnails scaled lazily and cached, so 10,000+
// images scroll smoothly. Single selection; the selected item's id is the "current id".
#include <QListView>
#include <QVector>

#include "widgets/image_grid_model.h"

namespace bp::widgets {

class ThumbnailDelegate;

class ImageGridView : public QListView {
  Q_OBJECT

public:
  explicit ImageGridView(QWidget* parent = nullptr);

  void setItems(QVector<ImageGridItem> items);
  int itemCount() const;

  // Longest side of each thumbnail in pixels (default 72).
  void setThumbnailSize(int pixels);
  int thumbnailSize() const;

  // Id of the selected item, or -1 when nothing is selected (keyboard focus alone does not select).
  qint64 currentId() const;
  // Selects and scrolls to the item with this id; an unknown id (or -1) clears the selection.
  void setCurrentId(qint64 id);

  ImageGridModel* gridModel() const { return model_; }

Q_SIGNALS:
  void currentIdChanged(qint64 id);

private:
  void emitIfCurrentIdChanged();
  void updateCellSize();

  ImageGridModel* model_;
  ThumbnailDelegate* delegate_;
  qint64 lastEmittedId_ = -1;
};

}  // namespace bp::widgets
