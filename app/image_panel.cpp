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
#include "data/dataset_io.h"
#include "measures/image_summary.h"
#include "widgets/image_conversion.h"

namespace bp::app {

ImageDatasetView prepareImageDatasetView(bp::ImageDataset dataset, const bp::Job& job) {
  ImageDatasetView view;
  view.summary = bp::describeImageDataset(dataset);
  const auto count = std::min<std::int64_t>(dataset.imageCount(), ImagePanel::kMaxThumbnails);
  const auto [low, high] = std::minmax_element(dataset.pixels.begin(), dataset.pixels.end());
  const float lowValue = dataset.pixels.empty() ? 0.0f : *low;
  const float highValue = dataset.pixels.empty() ? 1.0f : std::max(*high, lowValue + 1e-6f);
  view.thumbnails.reserve(static_cast<int>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % 512 == 0) {
      job.throwIfCancelled();
      job.progress(static_cast<double>(i) / static_cast<double>(count), "Drawing thumbnails");
    }
    bp::widgets::ImageGridItem item;
    item.image = bp::widgets::imageFromPlanes(dataset.image(i), dataset.channels, dataset.height, dataset.width,
                                               lowValue, highValue);
    const auto& className = dataset.classNames[static_cast<std::size_t>(dataset.labels[i])];
    item.label = QString::fromStdString(className);
    item.toolTip = QStringLiteral("image %1: %2").arg(i).arg(item.label);
    item.id = i;
    view.thumbnails.push_back(std::move(item));
  }
  view.dataset = std::make_shared<const bp::ImageDataset>(std::move(dataset));
  return view;
}

ImagePanel::ImagePanel(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(tr("No image dataset loaded. Open Fashion-MNIST, CIFAR or a folder of class subfolders."), this);
  title_->setStyleSheet(QStringLiteral("font-size:15px;font-weight:600;padding:4px"));
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
      [this](ImageDatasetView& view) { setView(std::move(view)); });
}

void ImagePanel::setView(ImageDatasetView view) {
  view_ = std::move(view);
  const auto& dataset = *view_.dataset;
  title_->setText(tr("%1 — %2 images of %3×%4×%5, %6 classes%7")
                      .arg(QString::fromStdString(dataset.name))
                      .arg(dataset.imageCount())
                      .arg(dataset.channels)
                      .arg(dataset.height)
                      .arg(dataset.width)
                      .arg(dataset.classNames.size())
                      .arg(dataset.imageCount() > kMaxThumbnails ? tr(" (grid shows the first %1)").arg(kMaxThumbnails)
                                                                 : QString()));
  fillJsonTree(summaryTree_, view_.summary);
  const QSignalBlocker blocker(classFilter_);
  classFilter_->clear();
  classFilter_->addItem(tr("All classes"), -1);
  for (std::size_t c = 0; c < dataset.classNames.size(); ++c)
    classFilter_->addItem(QString::fromStdString(dataset.classNames[c]), static_cast<int>(c));
  applyClassFilter();
}

void ImagePanel::applyClassFilter() {
  if (!view_.dataset) return;
  const int label = classFilter_->currentData().toInt();
  QVector<bp::widgets::ImageGridItem> items;
  for (const auto& item : view_.thumbnails)
    if (label < 0 || view_.dataset->labels[static_cast<std::size_t>(item.id)] == label) items.push_back(item);
  grid_->setItems(std::move(items));
}

}  // namespace bp::app
