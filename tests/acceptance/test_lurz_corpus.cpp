// The real Lurz et al. 2021 scan and a synthetic population in one model: different neuron counts,
// image sizes (28x28 brought to the scan's 36x64) and tiers, one shared core, each recording
// evaluated on its own test repeats. Skips when the shared data folder is absent.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/types.h>

#include "test_registry.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <cmath>

#include "data/dataset_io.h"
#include "data/default_data.h"
#include "data/recording_set.h"
#include "runtime/runtime.h"
#include "test_support.h"

namespace fs = std::filesystem;

class TestLurzCorpus : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void theScanAndASyntheticPopulationFitAndEvaluateTogether() {
    const auto shared = bp::test::sharedDataDir();
    const char* const scan = "mouse-v1-lurz2021/static20457-5-9-preproc0";
    if (!shared || !fs::is_directory(*shared / scan)) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    bp::initializeRuntime();
    bp::SyntheticV1Config synthetic;
    synthetic.neuronCount = 50;
    synthetic.trainImages = 300;
    synthetic.validationImages = 60;
    synthetic.testImages = 20;
    synthetic.testRepeats = 5;
    std::vector<bp::NeuralDataset> recordings = {bp::loadNeuralDataset(*shared / scan),
                                                 bp::generateDefaultDataset(synthetic).dataset};
    const auto resized = bp::bringToOneImageSize(recordings);
    QCOMPARE(resized.size(), std::size_t(1));
    QCOMPARE(recordings[1].height, 36);
    QCOMPARE(recordings[1].width, 64);

    bp::NeuralModelConfig model;
    model.kernelSizes = {9, 5};
    model.channels = {8, 8};
    bp::NeuralTrainerConfig trainer;
    trainer.maxEpochs = 2;
    trainer.batchSize = 64;
    const bp::NeuralFitResult fit =
        bp::fitNeuralModel(std::vector<const bp::NeuralDataset*>{&recordings[0], &recordings[1]}, model, trainer);
    QCOMPARE(fit.fitted.size(), std::size_t(2));
    QCOMPARE(fit.fitted[0].model->config().neuronCount, std::int64_t(5335));
    QCOMPARE(fit.fitted[1].model->config().neuronCount, std::int64_t(50));
    QCOMPARE(fit.history.back().recordingCorrelations.size(), std::size_t(2));
    for (std::size_t r = 0; r < 2; ++r) {
      const bp::NeuralModelEvaluation evaluation = bp::evaluateNeuralModel(fit.fitted[r], recordings[r]);
      qInfo("%s: test correlation %.3f, fraction of oracle %.3f after 2 epochs", recordings[r].name.c_str(),
            evaluation.meanAverageCorrelation, evaluation.fractionOfOracleSlope);
      QVERIFY(std::isfinite(evaluation.meanAverageCorrelation) && evaluation.meanAverageCorrelation > 0.0);
      QVERIFY(std::isfinite(evaluation.fractionOfOracleSlope));
    }
  }
};

BRAINPRIOR_TEST_CLASS(TestLurzCorpus)
#include "test_lurz_corpus.moc"
