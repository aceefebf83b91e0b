#include "app/probe_panel.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "app/controls_column.h"
#include "app/imported_model_dialog.h"
#include "app/workspace.h"
#include "runtime/error.h"
#include "widgets/bar_plot.h"
#include "widgets/color_bar.h"
#include "widgets/colormaps.h"
#include "widgets/image_conversion.h"

namespace bp::app {
namespace {

constexpr int kViewSize = 168;        // pixels of each image view
constexpr int kSaliencySize = 104;    // pixels of each model's saliency map
constexpr int kRowColumns = 2;        // model rows side by side, so that a launch of seeds fits on screen
constexpr int kTestImagesShown = 2000;
// Okabe-Ito green and vermillion: apart for colour-blind viewers too.
const QColor kRightColor(0x00, 0x9e, 0x73);
const QColor kWrongColor(0xd5, 0x5e, 0x00);
const QColor kTruthColor(0x9a, 0xd9, 0xc2);
const QColor kOtherColor(0xb0, 0xb0, 0xb0);
constexpr int kSliderSteps = 100;
constexpr int kEpsilonSteps = 64;

// Corruption kinds as the engine names them, with the slider's full-scale severity.
struct CorruptionChoice {
  const char* kind;
  const char* label;
  double fullScale;
};
const CorruptionChoice kCorruptions[] = {
    {"none", "None", 0.0},
    {"gaussian_noise", "Gaussian noise (σ)", 0.5},
    {"uniform_noise", "Uniform noise (±a)", 0.5},
    {"salt_and_pepper", "Salt and pepper (fraction)", 0.5},
    {"gaussian_blur", "Gaussian blur (σ, pixels)", 4.0},
    {"contrast", "Contrast reduction", 1.0},
    {"jpeg", "JPEG (101 − quality)", 100.0},
};

struct AttackChoice {
  ProbeAttack attack;
  const char* label;
  bool l2;
};
const AttackChoice kAttacks[] = {
    {ProbeAttack::PgdLinf, "PGD L∞ (20 steps)", false},
    {ProbeAttack::PgdL2, "PGD L2 (20 steps)", true},
    {ProbeAttack::Fgsm, "FGSM (L∞)", false},
    {ProbeAttack::MinimumLinf, "Smallest L∞ (PGD search up to ε)", false},
    {ProbeAttack::MinimumL2, "Smallest L2 (PGD search up to ε)", true},
};

// Nearest-neighbour scaling keeps the pixels of 28 x 28 images visible.
QPixmap scaled(const QImage& image, int size) {
  return QPixmap::fromImage(image.scaled(size, size, Qt::KeepAspectRatio,
                                         image.width() < size / 2 ? Qt::FastTransformation : Qt::SmoothTransformation));
}

QImage planesImage(const std::vector<float>& planes, int channels, int height, int width) {
  return bp::widgets::imageFromPlanes(planes.data(), channels, height, width, 0.0f, 1.0f);
}

// The channel mean of C x H x W planes: perturbations and saliency are shown as one map.
std::vector<float> channelMean(const std::vector<float>& planes, int channels, int height, int width) {
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  std::vector<float> mean(plane, 0.0f);
  for (int c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < plane; ++i) mean[i] += planes[c * plane + i] / static_cast<float>(channels);
  return mean;
}

QLabel* imageView(QWidget* parent, int size) {
  auto* view = new QLabel(parent);
  view->setFixedSize(size, size);
  view->setAlignment(Qt::AlignCenter);
  view->setStyleSheet(QStringLiteral("QLabel { background: #f4f4f4; border: 1px solid #d0d0d0; }"));
  return view;
}

QString className(const std::vector<std::string>& names, int index) {
  if (index >= 0 && index < static_cast<int>(names.size())) return QString::fromStdString(names[index]);
  return QString::number(index);
}

}  // namespace

ProbePanel::ProbePanel(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs), probeJobs_(this) {
  setAcceptDrops(true);
  buildControls();
  connect(&probeJobs_, &JobRunner::jobFinished, this,
          [this](int, const QString&, bool cancelled, const QString& error) {
            probeRunning_ = false;
            if (!error.isEmpty()) {
              status_ = tr("The probe failed: %1").arg(error);
              statusLabel_->setText(status_);
            }
            if (probePending_) {
              startProbe();
              return;
            }
            if (!cancelled) Q_EMIT probed(error);
          });
}

void ProbePanel::buildControls() {
  auto* controls = new QWidget(this);
  auto* controlsLayout = new QVBoxLayout(controls);
  controlsLayout->setContentsMargins(0, 0, 0, 0);

  auto* modelsBox = new QGroupBox(tr("Models"), controls);
  auto* modelsLayout = new QVBoxLayout(modelsBox);
  modelList_ = new QListWidget(modelsBox);
  modelList_->setMaximumHeight(150);
  modelList_->setToolTip(tr("The models being probed: finished runs with their test accuracy, imported models with "
                            "the input they declare"));
  auto* loadRuns = new QPushButton(tr("Load Runs…"), modelsBox);
  loadRuns->setToolTip(tr("A run folder, or a folder of runs (every finished run in it)"));
  connect(loadRuns, &QPushButton::clicked, this, &ProbePanel::chooseRunsToLoad);
  auto* addModel = new QPushButton(tr("Add TorchScript Model…"), modelsBox);
  addModel->setObjectName("addTorchScriptModel");
  addModel->setToolTip(tr("Any PyTorch network saved with torch.jit.trace or torch.jit.script, next to the runs; "
                          "its preprocessing is asked for once and kept beside it"));
  connect(addModel, &QPushButton::clicked, this, &ProbePanel::chooseModelToImport);
  auto* modelButtons = new QHBoxLayout;
  modelButtons->addWidget(loadRuns);
  modelButtons->addWidget(addModel);
  modelsLayout->addWidget(modelList_);
  modelsLayout->addLayout(modelButtons);

  auto* imageBox = new QGroupBox(tr("Image"), controls);
  auto* imageLayout = new QGridLayout(imageBox);
  imageIndex_ = new QSpinBox(imageBox);
  imageIndex_->setRange(0, 0);
  imageIndex_->setPrefix(tr("test image "));
  connect(imageIndex_, &QSpinBox::valueChanged, this, &ProbePanel::showTestImage);
  auto* randomImage = new QPushButton(tr("Random"), imageBox);
  connect(randomImage, &QPushButton::clicked, this, [this] {
    if (images_.count() > 0)
      imageIndex_->setValue(QRandomGenerator::global()->bounded(static_cast<int>(images_.count())));
  });
  auto* openImage = new QPushButton(tr("Open Image…"), imageBox);
  openImage->setToolTip(tr("Any PNG, JPEG or BMP file, resized to the models' input; or drop a file on this tab"));
  connect(openImage, &QPushButton::clicked, this, &ProbePanel::chooseImageToOpen);
  imageSource_ = new QLabel(tr("Load runs, then pick a test image or drop an image file here."), imageBox);
  imageSource_->setWordWrap(true);
  imageLayout->addWidget(imageIndex_, 0, 0);
  imageLayout->addWidget(randomImage, 0, 1);
  imageLayout->addWidget(openImage, 1, 0, 1, 2);
  imageLayout->addWidget(imageSource_, 2, 0, 1, 2);

  auto* corruptionBox = new QGroupBox(tr("Corruption"), controls);
  auto* corruptionLayout = new QFormLayout(corruptionBox);
  corruption_ = new QComboBox(corruptionBox);
  for (const auto& choice : kCorruptions) corruption_->addItem(tr(choice.label), QString::fromLatin1(choice.kind));
  severity_ = new QSlider(Qt::Horizontal, corruptionBox);
  severity_->setRange(0, kSliderSteps);
  severityValue_ = new QLabel(corruptionBox);
  severityValue_->setMinimumWidth(60);
  auto* severityRow = new QHBoxLayout;
  severityRow->addWidget(severity_, 1);
  severityRow->addWidget(severityValue_);
  noiseSeed_ = new QSpinBox(corruptionBox);
  noiseSeed_->setRange(0, 1'000'000);
  noiseSeed_->setToolTip(tr("The random corruptions' and the attacks' random start's seed"));
  corruptionLayout->addRow(tr("Kind"), corruption_);
  corruptionLayout->addRow(tr("Severity"), severityRow);
  corruptionLayout->addRow(tr("Seed"), noiseSeed_);
  connect(corruption_, &QComboBox::currentIndexChanged, this, &ProbePanel::onCorruptionKindChanged);
  connect(severity_, &QSlider::valueChanged, this, [this] {
    updateValueLabels();
    requestProbe();
  });
  connect(noiseSeed_, &QSpinBox::valueChanged, this, &ProbePanel::requestProbe);

  auto* attackBox = new QGroupBox(tr("Adversarial attack"), controls);
  auto* attackLayout = new QFormLayout(attackBox);
  attack_ = new QComboBox(attackBox);
  for (const auto& choice : kAttacks) attack_->addItem(tr(choice.label));
  epsilon_ = new QSlider(Qt::Horizontal, attackBox);
  epsilon_->setRange(0, kEpsilonSteps);
  epsilon_->setValue(4);
  epsilonValue_ = new QLabel(attackBox);
  epsilonValue_->setMinimumWidth(60);
  auto* epsilonRow = new QHBoxLayout;
  epsilonRow->addWidget(epsilon_, 1);
  epsilonRow->addWidget(epsilonValue_);
  attackedModel_ = new QComboBox(attackBox);
  attackedModel_->setToolTip(tr("The attack follows this model's gradients; every model is shown its image "
                                "(the others' answers show whether the attack transfers)"));
  attackButton_ = new QPushButton(tr("Attack"), attackBox);
  attackButton_->setCheckable(true);
  attackButton_->setToolTip(tr("Apply the attack (press again to remove it)"));
  auto* budgetUnits = new QLabel(tr("ε is in image units: a fraction of each model's input range "
                                     "(8/255 is 8 grey levels of a 0–255 model)."),
                                  attackBox);
  budgetUnits->setWordWrap(true);
  budgetUnits->setObjectName("budgetUnits");
  attackLayout->addRow(tr("Attack"), attack_);
  attackLayout->addRow(tr("Budget ε"), epsilonRow);
  attackLayout->addRow(budgetUnits);
  attackLayout->addRow(tr("On model"), attackedModel_);
  attackLayout->addRow(attackButton_);
  connect(attack_, &QComboBox::currentIndexChanged, this, &ProbePanel::onAttackKindChanged);
  connect(epsilon_, &QSlider::valueChanged, this, [this] {
    updateValueLabels();
    if (attackButton_->isChecked()) requestProbe();
  });
  connect(attackedModel_, &QComboBox::currentIndexChanged, this, [this] {
    if (attackButton_->isChecked()) requestProbe();
  });
  connect(attackButton_, &QPushButton::toggled, this, [this](bool on) {
    attackButton_->setText(on ? tr("Remove Attack") : tr("Attack"));
    requestProbe();
  });

  statusLabel_ = new QLabel(controls);
  statusLabel_->setWordWrap(true);
  statusLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  controlsLayout->addWidget(modelsBox);
  controlsLayout->addWidget(imageBox);
  controlsLayout->addWidget(corruptionBox);
  controlsLayout->addWidget(attackBox);
  controlsLayout->addWidget(statusLabel_);
  controlsLayout->addStretch(1);

  // Right: the image, what the models see, the perturbation; then one row per model.
  auto* results = new QWidget(this);
  auto* resultsLayout = new QVBoxLayout(results);
  auto* viewsRow = new QHBoxLayout;
  const auto addView = [&](const QString& caption, QLabel*& view, QLabel** text = nullptr,
                           bp::widgets::ColorBar* scale = nullptr) {
    auto* column = new QVBoxLayout;
    view = imageView(results, kViewSize);
    auto* label = new QLabel(caption, results);
    label->setAlignment(Qt::AlignCenter);
    auto* viewLine = new QHBoxLayout;
    viewLine->addWidget(view);
    if (scale != nullptr) viewLine->addWidget(scale);
    column->addLayout(viewLine);
    column->addWidget(label);
    if (text != nullptr) *text = label;
    viewsRow->addLayout(column);
  };
  addView(tr("Image"), originalView_);
  addView(tr("Shown to the models"), shownView_);
  perturbationScale_ = new bp::widgets::ColorBar(bp::widgets::Colormap::RedBlue, results);
  perturbationScale_->setFixedHeight(kViewSize);
  perturbationScale_->setToolTip(tr("The perturbation added to each pixel (mean over channels), in the image's [0, 1] units"));
  addView(tr("Perturbation"), perturbationView_, &perturbationText_, perturbationScale_);
  viewsRow->addStretch(1);
  resultsLayout->addLayout(viewsRow);

  auto* rowsHost = new QWidget(results);
  modelRows_ = new QGridLayout(rowsHost);
  modelRows_->setContentsMargins(0, 0, 0, 0);
  modelRows_->setSpacing(4);
  auto* scroll = new QScrollArea(results);
  scroll->setWidgetResizable(true);
  scroll->setWidget(rowsHost);
  resultsLayout->addWidget(scroll, 1);

  auto* layout = new QHBoxLayout(this);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(controlsColumn(controls, this));
  splitter->addWidget(results);
  splitter->setStretchFactor(1, 1);
  layout->addWidget(splitter);
  onCorruptionKindChanged();
  onAttackKindChanged();
}

QString ProbePanel::statusText() const { return status_; }

void ProbePanel::chooseRunsToLoad() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Load a run or a folder of runs"));
  if (!folder.isEmpty()) loadRuns({folder});
}

void ProbePanel::chooseModelToImport() {
  const QString file = chooseTorchScriptFile(this);
  if (file.isEmpty() || !ensureImportedModelDescription(this, file)) return;
  QStringList sources = workspace_.probeRuns();
  const bool runsLoaded = std::any_of(models_.begin(), models_.end(), [](const ProbeModel& m) { return !m.imported; });
  if (!runsLoaded && importedModelImages_.isEmpty()) {
    importedModelImages_ = QFileDialog::getExistingDirectory(
        this, tr("Choose labelled images to probe it on (an IDX folder such as Fashion-MNIST, a CIFAR folder, or "
                 "one folder per class)"));
    if (importedModelImages_.isEmpty()) return;
  }
  if (!sources.contains(file)) sources << file;
  loadRuns(sources);
}

void ProbePanel::chooseImageToOpen() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open an image"), {},
                                                    tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)"));
  if (!path.isEmpty()) showImageFile(path);
}

void ProbePanel::loadRuns(const QStringList& folders) {
  std::vector<std::string> paths;
  for (const QString& folder : folders) paths.push_back(folder.toStdString());
  struct Loaded {
    std::vector<ProbeModel> models;
    ProbeImageSet images;
    std::vector<std::string> skipped;
  };
  const std::string importedModelImages = importedModelImages_.toStdString();
  jobs_.run<std::shared_ptr<Loaded>>(
      tr("Loading runs to probe"),
      [paths, importedModelImages](const bp::Job& job) {
        auto loaded = std::make_shared<Loaded>();
        loaded->models = loadProbeModels(paths, loaded->skipped, job.subJob(0.0, 0.6));
        // Runs come first and name their test images; imported models alone are shown the images chosen
        // for them.
        const ProbeModel& first = loaded->models.front();
        if (!first.imported) {
          loaded->images = loadProbeImageSet(first, kTestImagesShown, job.subJob(0.6, 1.0));
        } else if (importedModelImages.empty()) {
          throw bp::Error("probe: imported models need labelled images; add the model again with Add TorchScript "
                          "Model… to choose them");
        } else {
          loaded->images =
              loadLabelledImages(importedModelImages, first.channels == 1, kTestImagesShown, job.subJob(0.6, 1.0));
        }
        return loaded;
      },
      [this, folders](std::shared_ptr<Loaded>& loaded) {
        models_ = std::move(loaded->models);
        workspace_.setProbeRuns(folders);
        images_ = std::move(loaded->images);
        modelList_->clear();
        attackedModel_->blockSignals(true);
        attackedModel_->clear();
        for (const ProbeModel& model : models_) {
          const QString name = QString::fromStdString(model.name);
          const QString detail =
              model.imported ? tr("imported: %1×%2×%3, range %4–%5")
                                   .arg(model.channels)
                                   .arg(model.height)
                                   .arg(model.width)
                                   .arg(model.rangeLow)
                                   .arg(model.rangeHigh)
                             : tr("test accuracy %1").arg(model.testAccuracy, 0, 'f', 3);
          auto* item = new QListWidgetItem(tr("%1 — %2").arg(name, detail), modelList_);
          QStringList layers;
          for (const std::string& layer : model.layers) layers << QString::fromStdString(layer);
          item->setToolTip(tr("%1\nLayers: %2").arg(QString::fromStdString(model.folder), layers.join(QStringLiteral(", "))));
          attackedModel_->addItem(name);
        }
        attackedModel_->blockSignals(false);
        status_ = loaded->skipped.empty()
                      ? QString()
                      : tr("Skipped %1 unfinished runs.").arg(static_cast<int>(loaded->skipped.size()));
        statusLabel_->setText(status_);
        rebuildModelRows();
        imageIndex_->blockSignals(true);
        imageIndex_->setRange(0, std::max(0, static_cast<int>(images_.count()) - 1));
        imageIndex_->blockSignals(false);
        Q_EMIT modelsLoaded(static_cast<int>(models_.size()));
        showTestImage(imageIndex_->value());
      });
}

void ProbePanel::rebuildModelRows() {
  for (const ModelRow& row : rows_) {
    row.title->parentWidget()->deleteLater();
  }
  rows_.clear();
  for (std::size_t i = 0; i < models_.size(); ++i) {
    auto* rowWidget = new QWidget;
    auto* rowLayout = new QGridLayout(rowWidget);
    rowLayout->setContentsMargins(0, 2, 0, 2);
    ModelRow row{};
    row.title = new QLabel(rowWidget);
    row.title->setWordWrap(true);
    row.probabilities = new bp::widgets::BarPlot(rowWidget);
    row.probabilities->setFixedHeight(kSaliencySize + 36);
    row.saliency = imageView(rowWidget, kSaliencySize);
    row.saliency->setToolTip(tr("Saliency: the largest |gradient of the decided class's logit| over the channels, per pixel"));
    rowLayout->addWidget(row.title, 0, 0, 1, 3);
    rowLayout->addWidget(row.probabilities, 1, 0);
    row.saliencyScale = new bp::widgets::ColorBar(bp::widgets::Colormap::Magma, rowWidget);
    row.saliencyScale->setFixedHeight(kSaliencySize);
    row.saliencyScale->setToolTip(row.saliency->toolTip());
    rowLayout->addWidget(row.saliency, 1, 1, Qt::AlignTop);
    rowLayout->addWidget(row.saliencyScale, 1, 2, Qt::AlignTop);
    rowLayout->setColumnStretch(0, 1);
    modelRows_->addWidget(rowWidget, static_cast<int>(i) / kRowColumns, static_cast<int>(i) % kRowColumns);
    rows_.push_back(row);
  }
}

void ProbePanel::showTestImage(int index) {
  if (index < 0 || index >= images_.count()) return;
  if (imageIndex_->value() != index) {
    imageIndex_->setValue(index);  // comes back here through valueChanged
    return;
  }
  const std::size_t size = static_cast<std::size_t>(images_.channels) * images_.height * images_.width;
  const auto first = images_.pixels.begin() + static_cast<std::ptrdiff_t>(size * static_cast<std::size_t>(index));
  const int label = images_.labels[static_cast<std::size_t>(index)];
  workspace_.setProbeImageFile({});
  setImage({first, first + static_cast<std::ptrdiff_t>(size)}, label,
           tr("Test image %1 of %2: <b>%3</b>")
               .arg(index)
               .arg(QString::fromStdString(images_.path))
               .arg(className(images_.classNames, label)));
}

bool ProbePanel::showImageFile(const QString& path) {
  if (models_.empty()) {
    status_ = tr("Load runs or add a model first: the image is resized to the probe images' size.");
    statusLabel_->setText(status_);
    return false;
  }
  try {
    setImage(readProbeImageFile(path.toStdString(), images_.channels, images_.height, images_.width), -1,
             tr("%1 (no label: attacks push away from the attacked model's decision)").arg(QFileInfo(path).fileName()));
    workspace_.setProbeImageFile(path);
  } catch (const std::exception& error) {
    status_ = tr("Cannot use %1: %2").arg(path, QString::fromUtf8(error.what()));
    statusLabel_->setText(status_);
    return false;
  }
  return true;
}

void ProbePanel::setImage(std::vector<float> pixels, int label, const QString& description) {
  image_ = std::move(pixels);
  label_ = label;
  imageSource_->setText(description);
  originalView_->setPixmap(scaled(planesImage(image_, images_.channels, images_.height, images_.width), kViewSize));
  requestProbe();
}

void ProbePanel::setCorruption(const QString& corruption, double severity) {
  const int index = corruption_->findData(corruption);
  if (index < 0) return;
  corruption_->setCurrentIndex(index);
  const double fullScale = kCorruptions[index].fullScale;
  severity_->setValue(fullScale > 0 ? static_cast<int>(std::lround(severity / fullScale * kSliderSteps)) : 0);
}

void ProbePanel::setAttack(ProbeAttack attack, double epsilonValue, int model) {
  for (int i = 0; i < static_cast<int>(std::size(kAttacks)); ++i)
    if (kAttacks[i].attack == attack) attack_->setCurrentIndex(i);
  const bool l2 = kAttacks[attack_->currentIndex()].l2;
  epsilon_->setValue(static_cast<int>(std::lround(l2 ? epsilonValue / 0.05 : epsilonValue * 255.0)));
  if (model >= 0 && model < attackedModel_->count()) attackedModel_->setCurrentIndex(model);
}

void ProbePanel::setAttackEnabled(bool enabled) { attackButton_->setChecked(enabled); }

nlohmann::json ProbePanel::settings() const {
  return {{"image", imageIndex_->value()},           {"corruption", corruption_->currentData().toString().toStdString()},
          {"severity_step", severity_->value()},     {"noise_seed", noiseSeed_->value()},
          {"attack", attack_->currentIndex()},       {"epsilon_step", epsilon_->value()},
          {"attacked_model", attackedModel_->currentIndex()}, {"attack_on", attackButton_->isChecked()}};
}

void ProbePanel::applySettings(const nlohmann::json& settings) {
  const int corruption = corruption_->findData(QString::fromStdString(settings.value("corruption", std::string("none"))));
  if (corruption >= 0) corruption_->setCurrentIndex(corruption);
  severity_->setValue(settings.value("severity_step", 0));
  noiseSeed_->setValue(settings.value("noise_seed", 0));
  const int attack = settings.value("attack", 0);
  if (attack >= 0 && attack < attack_->count()) attack_->setCurrentIndex(attack);
  epsilon_->setValue(settings.value("epsilon_step", 0));
  const int model = settings.value("attacked_model", 0);
  if (model >= 0 && model < attackedModel_->count()) attackedModel_->setCurrentIndex(model);
  attackButton_->setChecked(settings.value("attack_on", false));
  showTestImage(settings.value("image", 0));
}

void ProbePanel::onCorruptionKindChanged() {
  severity_->setEnabled(corruption_->currentIndex() > 0);
  updateValueLabels();
  requestProbe();
}

void ProbePanel::onAttackKindChanged() {
  updateValueLabels();
  if (attackButton_->isChecked()) requestProbe();
}

double ProbePanel::severity() const {
  const CorruptionChoice& choice = kCorruptions[corruption_->currentIndex()];
  const double value = choice.fullScale * severity_->value() / kSliderSteps;
  return std::string(choice.kind) == "jpeg" ? std::round(value) : value;
}

// L-inf budgets step by 1/255 (one grey level); L2 budgets by 0.05.
double ProbePanel::epsilon() const {
  return kAttacks[attack_->currentIndex()].l2 ? 0.05 * epsilon_->value() : epsilon_->value() / 255.0;
}

void ProbePanel::updateValueLabels() {
  severityValue_->setText(corruption_->currentIndex() == 0 ? QStringLiteral("—") : QString::number(severity(), 'g', 3));
  epsilonValue_->setText(kAttacks[attack_->currentIndex()].l2
                             ? QString::number(epsilon(), 'f', 2)
                             : QStringLiteral("%1/255").arg(epsilon_->value()));
}

void ProbePanel::requestProbe() {
  if (models_.empty() || image_.empty()) return;
  // Every control's change comes through here: the workspace keeps the probe as it is now.
  workspace_.setSettings("probe", settings());
  probePending_ = true;
  if (!probeRunning_) startProbe();
}

void ProbePanel::startProbe() {
  probePending_ = false;
  probeRunning_ = true;
  ProbeRequest request;
  request.image = image_;
  request.channels = images_.channels;
  request.height = images_.height;
  request.width = images_.width;
  request.label = label_;
  request.corruption = corruption_->currentData().toString().toStdString();
  request.severity = severity();
  request.noiseSeed = static_cast<std::uint64_t>(noiseSeed_->value());
  if (attackButton_->isChecked()) {
    request.attack = kAttacks[attack_->currentIndex()].attack;
    request.epsilon = epsilon();
    request.attackedModel = std::max(0, attackedModel_->currentIndex());
  }
  const std::vector<ProbeModel> models = models_;  // shared handles: the worker keeps them alive
  struct Timed {
    ProbeOutcome outcome;
    qint64 milliseconds = 0;
  };
  probeJobs_.run<std::shared_ptr<Timed>>(
      tr("Probe"),
      [models, request](const bp::Job& job) {
        QElapsedTimer timer;
        timer.start();
        auto timed = std::make_shared<Timed>();
        timed->outcome = runProbe(models, request, job);
        timed->milliseconds = timer.elapsed();
        return timed;
      },
      [this](std::shared_ptr<Timed>& timed) {
        outcome_ = std::move(timed->outcome);
        status_ = tr("Probed %1 models in %2 ms.").arg(models_.size()).arg(timed->milliseconds);
        showOutcome();
      });
}

void ProbePanel::showOutcome() {
  // The images' geometry: the runs' (their test images are loaded at it), or for imported models
  // alone the chosen images' own.
  const int channels = images_.channels;
  const int height = images_.height;
  const int width = images_.width;
  shownView_->setPixmap(scaled(planesImage(outcome_.shown, channels, height, width), kViewSize));
  const std::vector<float> perturbation = channelMean(outcome_.perturbation, channels, height, width);
  float largest = 0.0f;
  for (const float value : perturbation) largest = std::max(largest, std::abs(value));
  if (largest > 0.0f) {
    perturbationView_->setPixmap(scaled(bp::widgets::colorizedMap(perturbation.data(), height, width,
                                                                  bp::widgets::Colormap::RedBlue, -largest, largest),
                                        kViewSize));
    perturbationScale_->setRange(-largest, largest);
    perturbationText_->setText(tr("Perturbation ×%1: L∞ %2, L2 %3")
                                   .arg(0.5 / largest, 0, 'f', 0)
                                   .arg(outcome_.linf, 0, 'f', 4)
                                   .arg(outcome_.l2, 0, 'f', 3));
  } else {
    perturbationView_->clear();
    perturbationScale_->clearRange();
    perturbationText_->setText(tr("No perturbation"));
  }
  QString attackText;
  if (outcome_.attackLabel >= 0) {
    const QString attacked = attackedModel_->currentText();
    if (!outcome_.attackFooled)
      attackText = tr("The attack did not fool %1 within ε.").arg(attacked);
    else if (std::isfinite(outcome_.foundEpsilon) && outcome_.foundEpsilon < epsilon())
      attackText = tr("Smallest budget that fooled %1: %2.").arg(attacked).arg(outcome_.foundEpsilon, 0, 'g', 3);
    else
      attackText = tr("The attack fooled %1.").arg(attacked);
  }
  statusLabel_->setText(attackText.isEmpty() ? status_ : attackText + QStringLiteral(" ") + status_);

  // Probabilities: the decision green when right and vermillion when wrong, the true class light green.
  for (std::size_t i = 0; i < rows_.size() && i < outcome_.models.size(); ++i) {
    const ProbeModel& model = models_[i];
    const ModelResponse& response = outcome_.models[i];
    QStringList classes;
    QVector<double> values;
    QVector<QColor> colors;
    for (std::size_t c = 0; c < response.probabilities.size(); ++c) {
      classes << className(model.classNames, static_cast<int>(c));
      values << response.probabilities[c];
      const bool decided = static_cast<int>(c) == response.predicted;
      const bool truth = static_cast<int>(c) == label_;
      colors << (decided ? (label_ < 0 || truth ? kRightColor : kWrongColor)
                         : (truth ? kTruthColor : kOtherColor));
    }
    rows_[i].probabilities->setBars(classes, values, colors);
    const bool correct = label_ < 0 || response.predicted == label_;
    // A run: its regularizer and seed; an imported model has neither.
    const QString origin = model.imported ? tr("imported")
                                          : tr("%1, seed %2").arg(QString::fromStdString(model.regularizer)).arg(model.seed);
    rows_[i].title->setText(tr("<b>%1</b> (%2) says <span style='color:%3'><b>%4</b></span> (%5)")
                                .arg(QString::fromStdString(model.name).toHtmlEscaped())
                                .arg(origin)
                                .arg(correct ? kRightColor.name() : kWrongColor.name())
                                .arg(className(model.classNames, response.predicted).toHtmlEscaped())
                                .arg(response.probabilities[static_cast<std::size_t>(response.predicted)], 0, 'f', 2));
    float top = 0.0f;
    for (const float value : response.saliency) top = std::max(top, value);
    rows_[i].saliency->setPixmap(scaled(
        bp::widgets::colorizedMap(response.saliency.data(), height, width, bp::widgets::Colormap::Magma, 0.0f, top),
        kSaliencySize));
    rows_[i].saliencyScale->setRange(0.0, top);
  }
}

void ProbePanel::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ProbePanel::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  const QString path = urls.front().toLocalFile();
  // A dropped folder is a run or a folder of runs; a file is an image to probe (add TorchScript models
  // with their button, which asks for their preprocessing).
  if (QFileInfo(path).isDir())
    loadRuns({path});
  else
    showImageFile(path);
  event->acceptProposedAction();
}

}  // namespace bp::app
