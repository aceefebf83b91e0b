#include "app/model_fit_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "app/form_edits.h"
#include "app/model_results_view.h"
#include "app/model_session.h"
#include "app/workspace.h"
#include "runtime/log.h"

namespace bp::app {

ModelFitForm::ModelFitForm(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs) {
  core_ = new QComboBox(this);
  core_->addItem(tr("Stacked 2-D core"), QStringLiteral("stacked"));
  core_->addItem(tr("Rotation-equivariant core (Ecker 2019)"), QStringLiteral("rotation_equivariant"));
  readout_ = new QComboBox(this);
  readout_->addItem(tr("Gaussian (learned position)"), QStringLiteral("gaussian"));
  readout_->addItem(tr("Factorized (spatial × feature)"), QStringLiteral("factorized"));
  layers_ = new QSpinBox(this);
  layers_->setRange(1, 6);
  channels_ = new QSpinBox(this);
  channels_->setRange(1, 256);
  channels_->setToolTip(tr("Feature maps per layer (per rotation for the rotation-equivariant core)"));
  firstKernel_ = new QSpinBox(this);
  firstKernel_->setRange(3, 25);
  firstKernel_->setSingleStep(2);
  laterKernel_ = new QSpinBox(this);
  laterKernel_->setRange(1, 15);
  laterKernel_->setSingleStep(2);
  rotations_ = new QSpinBox(this);
  rotations_->setRange(1, 16);
  rotations_->setToolTip(tr("Rotation-equivariant core: each learned filter is applied at this many evenly "
                            "spaced orientations (8: every 45°), sharing its weights (Ecker et al. 2019)"));
  shifter_ = new QCheckBox(tr("Shifter: readouts follow the pupil"), this);
  shifter_->setToolTip(tr("An MLP from the pupil centre to a shift of every readout position, trial by trial "
                          "(Gaussian readout; needs the dataset's pupil_center)"));
  modulator_ = new QCheckBox(tr("Modulator: gain from behaviour"), this);
  modulator_->setToolTip(tr("An MLP from pupil dilation, its derivative and running speed to a gain per neuron "
                            "(needs the dataset's behavior)"));
  learningRate_ = new QDoubleSpinBox(this);
  learningRate_->setDecimals(4);
  learningRate_->setRange(1e-4, 0.1);
  learningRate_->setSingleStep(1e-3);
  batchSize_ = new QSpinBox(this);
  batchSize_->setRange(2, 1024);
  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 1000);
  minutes_ = new QDoubleSpinBox(this);
  minutes_->setRange(0.0, 600.0);
  minutes_->setDecimals(1);
  minutes_->setSpecialValueText(tr("no limit"));
  minutes_->setSuffix(tr(" min"));
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1'000'000);

  auto* formBox = new QGroupBox(tr("Fit a model of the neurons"), this);
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(formBox);
  auto* form = new QFormLayout(formBox);
  form->addRow(tr("Core"), core_);
  form->addRow(tr("Readout"), readout_);
  form->addRow(tr("Layers"), layers_);
  form->addRow(tr("Features per layer"), channels_);
  form->addRow(tr("First / later filter size"), [&] {
    auto* row = new QWidget(formBox);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(firstKernel_);
    layout->addWidget(laterKernel_);
    return row;
  }());
  form->addRow(tr("Rotations"), rotations_);
  form->addRow(tr("Eye and behaviour"), shifter_);
  form->addRow(QString(), modulator_);
  form->addRow(tr("Learning rate (Adam)"), learningRate_);
  form->addRow(tr("Batch size"), batchSize_);
  form->addRow(tr("Max epochs"), epochs_);
  form->addRow(tr("Time limit"), minutes_);
  form->addRow(tr("Seed"), seed_);
  // Li et al.'s corpus: further recordings share the core; the loaded dataset's model is the one shown.
  moreRecordings_ = new QListWidget(formBox);
  moreRecordings_->setObjectName(QStringLiteral("moreRecordings"));
  moreRecordings_->setMaximumHeight(moreRecordings_->fontMetrics().height() * 4);
  moreRecordings_->setToolTip(tr("Recordings fitted with the loaded dataset as one model: one core shared by a "
                                 "readout per recording, their images brought to the loaded dataset's size, each "
                                 "evaluated on its own test tier (NWB files need one ROI series and one presentation)"));
  auto* addButton = new QPushButton(tr("Add recording…"), formBox);
  auto* removeButton = new QPushButton(tr("Remove"), formBox);
  form->addRow(tr("Fit together with"), moreRecordings_);
  form->addRow(QString(), [&] {
    auto* row = new QWidget(formBox);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(addButton);
    layout->addWidget(removeButton);
    return row;
  }());
  connect(addButton, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Add a recording to fit with"), QString(),
                                                      tr("Recordings (*.h5 *.hdf5 *.nwb *.zip config.json);;All files (*)"));
    if (path.isEmpty()) return;
    addRecording(QFileInfo(path).fileName() == QStringLiteral("config.json") ? QFileInfo(path).absolutePath() : path);
  });
  connect(removeButton, &QPushButton::clicked, this, [this] { delete moreRecordings_->currentItem(); });
  auto* defaultsButton = new QPushButton(tr("Defaults for this dataset"), formBox);
  fitButton_ = new QPushButton(tr("Fit"), formBox);
  fitButton_->setDefault(true);
  stopButton_ = new QPushButton(tr("Stop (keeps the best epoch)"), formBox);
  stopButton_->setEnabled(false);
  form->addRow(defaultsButton);
  form->addRow(fitButton_);
  form->addRow(stopButton_);
  connect(defaultsButton, &QPushButton::clicked, this, &ModelFitForm::applyDefaults);
  connect(fitButton_, &QPushButton::clicked, this, &ModelFitForm::fit);
  connect(stopButton_, &QPushButton::clicked, this, &ModelFitForm::stopFit);
  connect(&jobs_, &JobRunner::jobFinished, this, [this](int finished) {
    if (finished != fitJob_) return;
    fitJob_ = 0;
    fitButton_->setEnabled(true);
    stopButton_->setEnabled(false);
    liveCurve_.clear();
    Q_EMIT liveCurveChanged(liveName_, liveCurve_);
  });
  connect(readout_, &QComboBox::currentIndexChanged, this, &ModelFitForm::enableEyeAndBehaviour);
  connect(core_, &QComboBox::currentIndexChanged, this, [this] {
    rotations_->setEnabled(core_->currentData().toString() == QLatin1String("rotation_equivariant"));
    applyDefaults();
  });

  rotations_->setEnabled(false);
  applyDefaults();
  watchFormEdits(this, [this] { workspace_.setSettings("fit", fitConfigFromForm()); });
  workspace_.setSettings("fit", fitConfigFromForm());
  connect(&workspace_, &Workspace::neuralDataChanged, this, &ModelFitForm::applyDefaults);
}

void ModelFitForm::applyDefaults() {
  bp::NeuralDataset geometry;
  enableEyeAndBehaviour();
  if (const auto dataset = workspace_.neuralDataset()) {
    geometry.height = dataset->height;
    geometry.width = dataset->width;
    geometry.neuronCount = dataset->neuronCount;
  } else {
    geometry.height = 36;
    geometry.width = 64;
  }
  applyFitConfig(defaultFitConfig(geometry, core_->currentData().toString().toStdString()));
}

void ModelFitForm::enableEyeAndBehaviour() {
  // The shifter and modulator read what the loaded dataset recorded of the eye and the animal.
  const auto dataset = workspace_.neuralDataset();
  shifter_->setEnabled(dataset && dataset->hasPupilCenter() &&
                       readout_->currentData().toString() == QLatin1String("gaussian"));
  modulator_->setEnabled(dataset && dataset->hasBehavior());
}

nlohmann::json ModelFitForm::fitConfigFromForm() const {
  const int layers = layers_->value();
  std::vector<int> kernels(static_cast<std::size_t>(layers), laterKernel_->value());
  kernels.front() = firstKernel_->value();
  nlohmann::json model = {{"core", core_->currentData().toString().toStdString()},
                          {"readout", readout_->currentData().toString().toStdString()},
                          {"kernel_sizes", kernels},
                          {"channels", std::vector<int>(static_cast<std::size_t>(layers), channels_->value())}};
  if (core_->currentData().toString() == QLatin1String("rotation_equivariant")) model["rotations"] = rotations_->value();
  model["shifter"] = shifter_->isEnabled() && shifter_->isChecked();
  model["modulator"] = modulator_->isEnabled() && modulator_->isChecked();
  const nlohmann::json trainer = {{"learning_rate", learningRate_->value()},
                                  {"batch_size", batchSize_->value()},
                                  {"max_epochs", epochs_->value()},
                                  {"max_seconds", minutes_->value() * 60.0},
                                  {"seed", seed_->value()}};
  return {{"model", model}, {"trainer", trainer}};
}

void ModelFitForm::applyFitConfig(const nlohmann::json& config) {
  const nlohmann::json& model = config.at("model");
  const nlohmann::json& trainer = config.at("trainer");
  const QSignalBlocker blockCore(core_);
  core_->setCurrentIndex(core_->findData(QString::fromStdString(model.value("core", std::string("stacked")))));
  readout_->setCurrentIndex(readout_->findData(QString::fromStdString(model.value("readout", std::string("gaussian")))));
  const auto kernels = model.at("kernel_sizes").get<std::vector<int>>();
  layers_->setValue(static_cast<int>(kernels.size()));
  firstKernel_->setValue(kernels.front());
  laterKernel_->setValue(kernels.size() > 1 ? kernels[1] : kernels.front());
  channels_->setValue(model.at("channels").get<std::vector<int>>().front());
  rotations_->setValue(model.value("rotations", 8));
  shifter_->setChecked(model.value("shifter", false));
  modulator_->setChecked(model.value("modulator", false));
  rotations_->setEnabled(core_->currentData().toString() == QLatin1String("rotation_equivariant"));
  learningRate_->setValue(trainer.at("learning_rate").get<double>());
  batchSize_->setValue(trainer.at("batch_size").get<int>());
  epochs_->setValue(trainer.at("max_epochs").get<int>());
  minutes_->setValue(trainer.at("max_seconds").get<double>() / 60.0);
  seed_->setValue(static_cast<int>(trainer.at("seed").get<std::uint64_t>()));
}

void ModelFitForm::addRecording(const QString& path) {
  if (!moreRecordings_->findItems(path, Qt::MatchExactly).isEmpty()) return;
  auto* item = new QListWidgetItem(path, moreRecordings_);
  item->setToolTip(path);
}

QStringList ModelFitForm::moreRecordings() const {
  QStringList paths;
  for (int row = 0; row < moreRecordings_->count(); ++row) paths << moreRecordings_->item(row)->text();
  return paths;
}

QString ModelFitForm::checkpointPath(const nlohmann::json& config) const {
  // One checkpoint per dataset, further recordings and settings: fitting the same again after a
  // crash or a stop resumes.
  const auto dataset = workspace_.neuralDataset();
  const QByteArray identity = QByteArray::fromStdString(dataset->name + "|" + dataset->sourcePath + "|" +
                                                        std::to_string(dataset->trialCount()) + "|" + config.dump() +
                                                        "|" + moreRecordings().join(QLatin1Char('|')).toStdString());
  const QString hash = QString::fromLatin1(QCryptographicHash::hash(identity, QCryptographicHash::Sha1).toHex().left(16));
  const QDir folder(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/checkpoints"));
  folder.mkpath(QStringLiteral("."));
  return folder.filePath(QStringLiteral("neural-fit-%1.pt").arg(hash));
}

void ModelFitForm::fit() {
  const auto dataset = workspace_.neuralDataset();
  if (!dataset) {
    bp::logWarning("Load a neural dataset before fitting a model");
    return;
  }
  if (fitJob_ != 0) return;
  const nlohmann::json config = fitConfigFromForm();
  const QString checkpoint = checkpointPath(config);
  std::vector<std::string> more;
  for (const QString& path : moreRecordings()) more.push_back(path.toStdString());
  if (QFileInfo::exists(checkpoint)) bp::logInfo("Resuming an interrupted fit from " + checkpoint.toStdString());
  ++fitCounter_;
  liveName_ = tr("%1 / %2 #%3")
                  .arg(coreLabel(config.at("model")), QString::fromStdString(config.at("model").at("readout").get<std::string>()))
                  .arg(fitCounter_);
  liveCurve_.clear();
  fitButton_->setEnabled(false);
  stopButton_->setEnabled(true);
  QPointer<ModelFitForm> form(this);
  stopFit_ = std::make_shared<std::atomic<bool>>(false);
  fitJob_ = jobs_.run<std::shared_ptr<ModelRecord>>(
      tr("Fitting %1").arg(liveName_),
      [dataset, more, config, checkpoint, form, stop = stopFit_](const bp::Job& job) {
        const auto onEpoch = [form](const bp::NeuralEpochReport& point) {
          QMetaObject::invokeMethod(
              form,
              [form, point] {
                if (!form) return;
                form->liveCurve_.push_back(point);
                Q_EMIT form->liveCurveChanged(form->liveName_, form->liveCurve_);
              },
              Qt::QueuedConnection);
        };
        return std::make_shared<ModelRecord>(
            fitModel(*dataset, more, config, checkpoint.toStdString(), job, onEpoch, [stop] { return stop->load(); }));
      },
      [this](std::shared_ptr<ModelRecord>& record) {
        record->name = liveName_.toStdString();
        workspace_.addModel(record);
      });
}

void ModelFitForm::stopFit() {
  if (fitJob_ == 0 || !stopFit_) return;
  stopFit_->store(true);
  stopButton_->setEnabled(false);
  bp::logInfo("The fit stops after the current epoch and keeps its best weights");
}

}  // namespace bp::app
