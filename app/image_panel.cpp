#include "app/image_panel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "app/json_tree.h"
#include "app/workspace.h"
#include "data/dataset_io.h"

namespace bp::app {

ImagePanel::ImagePanel(Workspace& workspace, QWidget* parent) : QWidget(parent), workspace_(workspace) {
  title_ = new QLabel(tr("No image dataset loaded. Open Fashion-MNIST, CIFAR or a folder of class subfolders."), this);
  title_->setStyleSheet(QStringLiteral("font-size:15px;font-weight:600;padding:4px"));
  title_->setWordWrap(true);
  split_ = new QComboBox(this);
  split_->addItem(tr("Train split"), QStringLiteral("train"));
  split_->addItem(tr("Test split"), QStringLiteral("test"));
  classFilter_ = new QComboBox(this);
  grid_ = new bp::widgets::ImageGridView(this);
  grid_->setThumbnailSize(72);
  summaryTree_ = new QTreeWidget(this);

  auto* controls = new QHBoxLayout;
  controls->addWidget(split_);
  controls->addWidget(new QLabel(tr("Class:"), this));
  controls->addWidget(classFilter_, 1);
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addLayout(controls);
  leftLayout->addWidget(grid_, 1);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(left);
  splitter->addWidget(summaryTree_);
  splitter->setSizes({900, 400});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(splitter, 1);

  connect(classFilter_, &QComboBox::currentIndexChanged, this, &ImagePanel::applyClassFilter);
  connect(split_, &QComboBox::activated, this, [this] {
    if (jobs_ && !path_.isEmpty()) loadFrom(*jobs_, path_);
  });
  connect(&workspace_, &Workspace::imagesChanged, this, &ImagePanel::showDataset);
}

void ImagePanel::loadFrom(JobRunner& jobs, const QString& path) {
  jobs_ = &jobs;
  path_ = path;
  const auto split = split_->currentData().toString().toStdString();
  jobs.run<ImageDatasetView>(
      tr("Loading images from %1").arg(QFileInfo(path).fileName()),
      [path, split](const bp::Job& job) {
        return prepareImageDatasetView(bp::loadImageDataset(path.toStdString(), {}, split, job.subJob(0.0, 0.7)),
                                       job.subJob(0.7, 1.0));
      },
      [this](ImageDatasetView& view) { workspace_.setImages(std::move(view)); });
}

void ImagePanel::showDataset() {
  view_ = workspace_.images();
  if (!view_) return;
  const auto& dataset = *view_->dataset;
  title_->setText(tr("%1 — %2 images of %3×%4×%5, %6 classes%7")
                      .arg(QString::fromStdString(dataset.name))
                      .arg(dataset.imageCount())
                      .arg(dataset.channels)
                      .arg(dataset.height)
                      .arg(dataset.width)
                      .arg(dataset.classNames.size())
                      .arg(dataset.imageCount() > kMaxImageThumbnails ? tr(" (grid shows the first %1)").arg(kMaxImageThumbnails)
                                                                 : QString()));
  fillJsonTree(summaryTree_, view_->summary);
  const QSignalBlocker blocker(classFilter_);
  classFilter_->clear();
  classFilter_->addItem(tr("All classes"), -1);
  for (std::size_t c = 0; c < dataset.classNames.size(); ++c)
    classFilter_->addItem(QString::fromStdString(dataset.classNames[c]), static_cast<int>(c));
  applyClassFilter();
}

void ImagePanel::applyClassFilter() {
  if (!view_) return;
  const int label = classFilter_->currentData().toInt();
  QVector<bp::widgets::ImageGridItem> items;
  for (const auto& item : view_->thumbnails)
    if (label < 0 || view_->dataset->labels[static_cast<std::size_t>(item.id)] == label) items.push_back(item);
  grid_->setItems(std::move(items));
}

}  // namespace bp::app
