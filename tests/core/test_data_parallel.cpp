// Data-parallel training on torch.distributed (Gloo over 127.0.0.1), as users launch it: two
// workers started by `train --nproc 2` reach the weights of one process with the same global batch
// and seed (to 1e-5, one thread each) for plain, noise-augmented, neural-similarity and harmonized
// training (whose saliency is a second derivative through the synchronized batch norm), and fit
// the neural model of one process with either core, and
// differ with per-worker batch norm, the faster choice; a
// worker killed mid-run makes the other stop within the timeout naming it, and the run then
// resumes with one process; bad set-ups (a port in use, workers that disagree on the world size
// or on the config) are refused by name; workers under torchrun's agent join the agent's store. The
// launch environment (torchrun's and Slurm's variables)
// and the shares of a batch are checked directly.
#include <QProcess>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "classifiers/trained_classifier.h"
#include "cli_run.h"
#include "python_torch.h"
#include "distributed/data_parallel_group.h"
#include "distributed/launch_environment.h"
#include "distributed/launch_script.h"
#include "runtime/error.h"
#include "training/neural_trainer.h"
#include "striped_images.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

// The striped three-class images (96 train, 30 test): 3 steps of 32 per epoch, 2 epochs.
nlohmann::json smallConfig(const std::filesystem::path& stripes) {
  nlohmann::json config = test::stripedTrainingConfig(stripes);
  config["epochs"] = 2;
  return config;
}

void writeStripes(const std::filesystem::path& folder) {
  test::writeStripedIdxSplit(folder, "train", 96, 1);
  test::writeStripedIdxSplit(folder, "t10k", 30, 2);
}

QString text(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }

// The largest difference between two models' parameters and buffers, named.
std::pair<double, std::string> largestDifference(const torch::nn::Module& first, const torch::nn::Module& second) {
  std::map<std::string, torch::Tensor> theirs;
  for (const auto& item : second.named_parameters()) theirs[item.key()] = item.value();
  for (const auto& item : second.named_buffers()) theirs[item.key()] = item.value();
  double largest = 0.0;
  std::string where;
  std::size_t compared = 0;
  auto compare = [&](const std::string& name, const torch::Tensor& mine) {
    const auto other = theirs.find(name);
    if (other == theirs.end()) {
      largest = 1e9;
      where = name + " (only in the first model)";
      return;
    }
    const double difference = (mine.to(torch::kDouble) - other->second.to(torch::kDouble)).abs().max().item<double>();
    ++compared;
    if (difference > largest) {
      largest = difference;
      where = name;
    }
  };
  for (const auto& item : first.named_parameters()) compare(item.key(), item.value());
  for (const auto& item : first.named_buffers()) compare(item.key(), item.value());
  if (compared != theirs.size()) return {1e9, "different parameter sets"};
  return {largest, where};
}

// The same for two classifier model files.
std::pair<double, std::string> largestDifference(const std::filesystem::path& a, const std::filesystem::path& b) {
  return largestDifference(*loadClassifierModel(a).model, *loadClassifierModel(b).model);
}

// A worker of a hand-made launch: the CLI with torchrun's variables.
struct Worker {
  QProcess process;
  void start(int rank, int worldSize, int port, const QStringList& arguments) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("RANK", QString::number(rank));
    environment.insert("LOCAL_RANK", QString::number(rank));
    environment.insert("WORLD_SIZE", QString::number(worldSize));
    environment.insert("MASTER_ADDR", "127.0.0.1");
    environment.insert("MASTER_PORT", QString::number(port));
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), QStringList{"--quiet", "--threads", "1"} + arguments);
    QVERIFY(process.waitForStarted());
  }
  int finish() {
    process.waitForFinished(-1);
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
  }
};

// A port on 127.0.0.1 that something else holds (listening) while the object lives.
class TakenPort {
 public:
  TakenPort() {
    socket_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(socket_, 1);
    ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~TakenPort() { ::close(socket_); }
  int port() const { return port_; }

 private:
  int socket_ = -1;
  int port_ = 0;
};

// A port free now (bound and released), for a hand-made launch.
int freePort() {
  const TakenPort probe;
  return probe.port();
}

EnvironmentLookup lookupIn(const std::map<std::string, std::string>& variables) {
  return [variables](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

}  // namespace

class TestDataParallel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void theLaunchEnvironmentIsReadFromTorchrunAndSlurm() {
    const LaunchEnvironment alone = launchEnvironmentFrom(lookupIn({}));
    QVERIFY(!alone.distributed());
    QCOMPARE(alone.launcher, std::string("single process"));

    const LaunchEnvironment torchrun = launchEnvironmentFrom(lookupIn({{"RANK", "5"},
                                                                        {"WORLD_SIZE", "8"},
                                                                        {"LOCAL_RANK", "1"},
                                                                        {"LOCAL_WORLD_SIZE", "4"},
                                                                        {"MASTER_ADDR", "gpu07"},
                                                                        {"MASTER_PORT", "29511"}}));
    QCOMPARE(torchrun.rank, 5);
    QCOMPARE(torchrun.worldSize, 8);
    QCOMPARE(torchrun.localRank, 1);
    QCOMPARE(torchrun.localWorldSize, 4);
    QCOMPARE(torchrun.masterAddress, std::string("gpu07"));
    QCOMPARE(torchrun.masterPort, 29511);
    QCOMPARE(torchrun.launcher, std::string("torchrun"));
    QVERIFY(!torchrun.agentHostsStore);
    QVERIFY(launchEnvironmentFrom(lookupIn({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}}))
                .agentHostsStore);

    const LaunchEnvironment slurm = launchEnvironmentFrom(lookupIn({{"SLURM_PROCID", "6"},
                                                                     {"SLURM_NTASKS", "8"},
                                                                     {"SLURM_LOCALID", "2"},
                                                                     {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                                                                     {"SLURM_JOB_NODELIST", "gpu[07-08]"},
                                                                     {"SLURM_JOB_ID", "123456"}}));
    QCOMPARE(slurm.rank, 6);
    QCOMPARE(slurm.worldSize, 8);
    QCOMPARE(slurm.localRank, 2);
    QCOMPARE(slurm.localWorldSize, 4);
    QCOMPARE(slurm.masterAddress, std::string("gpu07"));
    QCOMPARE(slurm.masterPort, 20000 + 123456 % 20000);
    QCOMPARE(slurm.launcher, std::string("slurm"));

    QCOMPARE(firstSlurmHost("node1,node2"), std::string("node1"));
    QCOMPARE(firstSlurmHost("gpu[012,015-016],cpu[1-2]"), std::string("gpu012"));
    QCOMPARE(firstSlurmHost("single"), std::string("single"));

    const auto refused = [](const std::map<std::string, std::string>& variables, const std::string& named) {
      try {
        launchEnvironmentFrom(lookupIn(variables));
      } catch (const Error& error) {
        return std::string(error.what()).find(named) != std::string::npos;
      }
      return false;
    };
    QVERIFY(refused({{"RANK", "0"}}, "WORLD_SIZE"));
    QVERIFY(refused({{"RANK", "2"}, {"WORLD_SIZE", "2"}}, "RANK=2"));
    QVERIFY(refused({{"RANK", "one"}, {"WORLD_SIZE", "2"}}, "RANK=\"one\""));
    QVERIFY(refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT"));
  }

  void launchScriptsStartEveryWorker() {
    LaunchScriptRequest request;
    request.configFile = "/shared/configs/run one.json";
    request.outputDir = "/shared/runs";
    request.nodes = 2;
    request.workersPerNode = 4;
    const std::string slurm = launchScript(request);
    QVERIFY(slurm.rfind("#!/bin/bash\n", 0) == 0);
    QVERIFY(slurm.find("#SBATCH --nodes=2\n") != std::string::npos);
    QVERIFY(slurm.find("#SBATCH --ntasks-per-node=4\n") != std::string::npos);
    QVERIFY(slurm.find("#SBATCH --gpus-per-task=1\n") != std::string::npos);
    // The config's path has a space: quoted for the shell.
    QVERIFY2(slurm.find("srun brainprior-cli --threads 8 train --config '/shared/configs/run one.json' "
                        "--output-dir /shared/runs --resume") != std::string::npos,
             slurm.c_str());
    request.launcher = clusterLauncherFromName("torchrun");
    request.gpus = false;
    const std::string torchrun = launchScript(request);
    QVERIFY(torchrun.find("torchrun --nnodes=2 --nproc-per-node=4") != std::string::npos);
    QVERIFY(torchrun.find("--no-python bash -c 'exec brainprior-cli") != std::string::npos);
    QVERIFY(torchrun.find("CUDA_VISIBLE_DEVICES") == std::string::npos);
    QVERIFY_THROWS_EXCEPTION(Error, clusterLauncherFromName("mpirun"));
    request.nodes = 0;
    QVERIFY_THROWS_EXCEPTION(Error, launchScript(request));
  }

  void sharesCoverABatchInRankOrder() {
    for (const std::int64_t count : {1, 7, 32, 33}) {
      for (const int ranks : {1, 2, 3}) {
        std::int64_t next = 0;
        for (int rank = 0; rank < ranks; ++rank) {
          const RowShare share = rowShare(count, rank, ranks);
          QCOMPARE(share.begin, next);
          QVERIFY(share.end - share.begin >= count / ranks && share.end - share.begin <= count / ranks + 1);
          next = share.end;
        }
        QCOMPARE(next, count);
      }
    }
  }

  void twoWorkersReachTheWeightsOfOneProcess_data() {
    QTest::addColumn<QString>("regularizer");
    QTest::newRow("plain") << "none";
    QTest::newRow("noise augmentation") << "gaussian_noise_augmentation";
    QTest::newRow("neural similarity") << "neural_similarity";
    QTest::newRow("harmonization") << "harmonization";
  }

  void twoWorkersReachTheWeightsOfOneProcess() {
    QFETCH(QString, regularizer);
    test::ScratchDir dir;
    writeStripes(dir / "stripes");
    nlohmann::json config = smallConfig(dir / "stripes");
    config["regularizer"] = {{"kind", regularizer.toStdString()}};
    if (regularizer == "gaussian_noise_augmentation") config["regularizer"]["noise_sigma"] = 0.1;
    if (regularizer == "neural_similarity")
      config["regularizer"].update({{"alpha", 1.0},
                                    {"pair_batch_size", 6},
                                    {"target", {{"source", "pixel"}, {"images", {{"split", "test"}}}}}});
    if (regularizer == "harmonization") {
      // Importance maps (the images' centre) for the first 40 train images, as 8-bit PGM files.
      std::filesystem::create_directories(dir / "maps");
      std::string map = "P5\n12 12\n255\n";
      for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 12; ++x) map += static_cast<char>(x >= 3 && x < 9 && y >= 3 && y < 9 ? 255 : 0);
      for (int i = 0; i < 40; ++i) test::writeBytes(dir / "maps" / (std::to_string(i) + ".pgm"), map);
      config["regularizer"]["harmonization"] = {{"importance_maps", (dir / "maps").string()}, {"pyramid_levels", 2}};
    }
    test::writeBytes(dir / "run.json", config.dump());

    const test::CliRun alone = test::runCli({"--threads", "1", "train", "--config", text(dir / "run.json"),
                                             "--output-dir", text(dir / "alone")});
    QVERIFY2(alone.exitCode == 0, alone.err.constData());
    const test::CliRun pair = test::runCli({"--threads", "1", "train", "--config", text(dir / "run.json"),
                                            "--output-dir", text(dir / "pair"), "--nproc", "2", "--timeout", "120"});
    QVERIFY2(pair.exitCode == 0, pair.err.constData());
    // One report, from rank 0, naming both workers.
    const QJsonObject run = pair.json().value("runs").toArray().at(0).toObject();
    QCOMPARE(run.value("workers").toObject().value("world_size").toInt(), 2);
    QCOMPARE(run.value("state").toString(), QStringLiteral("finished"));

    const auto [difference, where] =
        largestDifference(dir / "alone" / "stripes-seed1" / "model.pt", dir / "pair" / "stripes-seed1" / "model.pt");
    QVERIFY2(difference <= 1e-5, (where + ": " + std::to_string(difference)).c_str());
    // The curves agree too: the loss is the whole batch's, not rank 0's share.
    const double aloneLoss = alone.json().value("runs").toArray().at(0).toObject().value("last_epoch").toObject()
                                 .value("total_loss").toDouble();
    const double pairLoss = run.value("last_epoch").toObject().value("total_loss").toDouble();
    QVERIFY2(std::abs(aloneLoss - pairLoss) <= 1e-5 * std::max(1.0, std::abs(aloneLoss)),
             (std::to_string(aloneLoss) + " vs " + std::to_string(pairLoss)).c_str());
  }

  void twoWorkersFitTheNeuralModelOfOneProcess_data() {
    QTest::addColumn<QString>("core");
    QTest::newRow("stacked") << "stacked";
    QTest::newRow("rotation-equivariant") << "rotation_equivariant";
  }

  void twoWorkersFitTheNeuralModelOfOneProcess() {
    // A fit's batches shared out: synchronized batch norm in either core, the Gaussian readout's
    // position noise drawn for the whole batch, the regularization added once.
    QFETCH(QString, core);
    test::ScratchDir dir;
    const QString population = text(dir / "population.h5");
    const test::CliRun synth = test::runCli({"synth", "-o", population, "--neurons", "12", "--train", "60",
                                             "--validation", "10", "--test", "5", "--repeats", "4", "--seed", "7"});
    QVERIFY2(synth.exitCode == 0, synth.err.constData());
    const QStringList fit{"--threads", "1", "fit", population, "--core", core, "--epochs", "3", "--seed", "2"};
    const test::CliRun alone = test::runCli(fit + QStringList{"-o", text(dir / "alone.pt")});
    QVERIFY2(alone.exitCode == 0, alone.err.constData());
    const test::CliRun pair = test::runCli(fit + QStringList{"-o", text(dir / "pair.pt"), "--nproc", "2"});
    QVERIFY2(pair.exitCode == 0, pair.err.constData());
    const auto metrics = nlohmann::json::parse(test::readBytes(dir / "pair.pt.metrics.json"));
    QCOMPARE(metrics.at("workers").at("world_size").get<int>(), 2);
    const auto [difference, where] =
        largestDifference(*loadNeuralModel(dir / "alone.pt").model, *loadNeuralModel(dir / "pair.pt").model);
    QVERIFY2(difference <= 1e-5, (where + ": " + std::to_string(difference)).c_str());
  }

  void workersUseTorchrunsAgentStore() {
    // torchrun's agent serves the rendezvous store itself and tells the workers so
    // (TORCHELASTIC_USE_AGENT_STORE=True): rank 0 must join it, not open its own on the port the agent
    // holds. PyTorch's own TCPStore plays the agent here (Debian's torchrun 1.13 fails under Python
    // 3.11 before it starts anything).
    const std::optional<QString> python = test::pythonWithTorchvision();
    if (!python) QSKIP(test::kNoPythonWithTorchvision);
    test::ScratchDir dir;
    writeStripes(dir / "stripes");
    test::writeBytes(dir / "run.json", smallConfig(dir / "stripes").dump());
    test::writeBytes(dir / "agent.py", R"(
import datetime, os, subprocess, sys
from torch.distributed import TCPStore
port, cli, arguments = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
store = TCPStore("127.0.0.1", port, 3, True, datetime.timedelta(seconds=120), wait_for_workers=False)
workers = []
for rank in range(2):
    environment = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), TORCHELASTIC_USE_AGENT_STORE="True",
                       TORCHELASTIC_RESTART_COUNT="0")
    workers.append(subprocess.Popen([cli] + arguments, env=environment))
sys.exit(max(worker.wait() for worker in workers))
)");
    QProcess agent;
    agent.start(*python, {text(dir / "agent.py"), QString::number(freePort()), QStringLiteral(BRAINPRIOR_CLI_PATH),
                          "--quiet", "--threads", "1", "train", "--config", text(dir / "run.json"), "--output-dir",
                          text(dir / "runs"), "--timeout", "60"});
    QVERIFY(agent.waitForFinished(600000));
    QVERIFY2(agent.exitCode() == 0, agent.readAllStandardError().constData());
    const QJsonObject run = QJsonDocument::fromJson(agent.readAllStandardOutput()).object().value("runs").toArray()
                                .at(0).toObject();
    QCOMPARE(run.value("state").toString(), QStringLiteral("finished"));
    QCOMPARE(run.value("workers").toObject().value("world_size").toInt(), 2);
    QCOMPARE(run.value("workers").toObject().value("launcher").toString(), QStringLiteral("torchrun"));
  }

  void perWorkerBatchNormTrainsOnEachWorkersShare() {
    // The faster choice: each worker's own batch statistics, rank 0's running statistics. The
    // weights then depend on the number of workers (which is why it is not the default).
    test::ScratchDir dir;
    writeStripes(dir / "stripes");
    nlohmann::json config = smallConfig(dir / "stripes");
    config["batch_norm"] = "per_worker";
    test::writeBytes(dir / "run.json", config.dump());
    const test::CliRun alone = test::runCli({"--threads", "1", "train", "--config", text(dir / "run.json"),
                                             "--output-dir", text(dir / "alone")});
    QVERIFY2(alone.exitCode == 0, alone.err.constData());
    const test::CliRun pair = test::runCli({"--threads", "1", "train", "--config", text(dir / "run.json"),
                                            "--output-dir", text(dir / "pair"), "--nproc", "2"});
    QVERIFY2(pair.exitCode == 0, pair.err.constData());
    const QJsonObject run = pair.json().value("runs").toArray().at(0).toObject();
    QCOMPARE(run.value("config").toObject().value("batch_norm").toString(), QStringLiteral("per_worker"));
    QVERIFY(run.value("test_accuracy").toDouble() > 0.0);
    const auto [difference, where] =
        largestDifference(dir / "alone" / "stripes-seed1" / "model.pt", dir / "pair" / "stripes-seed1" / "model.pt");
    QVERIFY2(difference > 1e-4, (where + ": " + std::to_string(difference)).c_str());
  }

  void aKilledWorkerStopsTheOtherByNameAndTheRunResumesAlone() {
    test::ScratchDir dir;
    writeStripes(dir / "stripes");
    nlohmann::json config = smallConfig(dir / "stripes");
    config["epochs"] = 200;
    test::writeBytes(dir / "run.json", config.dump());
    const QStringList arguments{"train", "--config", text(dir / "run.json"), "--output-dir", text(dir / "runs"),
                                "--timeout", "30"};
    const int port = freePort();
    Worker leader;
    Worker follower;
    leader.start(0, 2, port, arguments);
    follower.start(1, 2, port, arguments);
    const auto metrics = dir / "runs" / "stripes-seed1" / "metrics.csv";
    QTRY_VERIFY_WITH_TIMEOUT(std::filesystem::exists(metrics) && test::readBytes(metrics).find("\n2,") != std::string::npos,
                             300000);
    follower.process.kill();
    follower.finish();
    QVERIFY(leader.finish() != 0);
    const QByteArray error = leader.process.readAllStandardError();
    QVERIFY2(error.contains("rank 1 on host"), error.constData());
    const std::string log = test::readBytes(dir / "runs" / "stripes-seed1" / "log.txt");
    QVERIFY2(log.find("failed: ") != std::string::npos && log.find("rank 1") != std::string::npos, log.c_str());

    // One process finishes it from the last complete epoch; the curve continues.
    const test::CliRun resumed = test::runCli({"--threads", "1", "train", "--config", text(dir / "run.json"),
                                               "--output-dir", text(dir / "runs"), "--resume", "--epochs", "4"});
    QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
    const QJsonObject run = resumed.json().value("runs").toArray().at(0).toObject();
    QCOMPARE(run.value("state").toString(), QStringLiteral("finished"));
    QVERIFY(run.value("resumed_after_epoch").toInt() >= 2);
    QCOMPARE(run.value("history").toArray().size(), 4);
  }

  void badSetUpsAreRefusedByName() {
    test::ScratchDir dir;
    writeStripes(dir / "stripes");
    nlohmann::json config = smallConfig(dir / "stripes");
    test::writeBytes(dir / "run.json", config.dump());
    config["optimizer"]["learning_rate"] = 0.01;
    test::writeBytes(dir / "other.json", config.dump());
    const auto arguments = [&](const char* name, const char* output) {
      return QStringList{"train", "--config", text(dir / name), "--output-dir", text(dir / output), "--timeout", "20"};
    };

    {  // The rendezvous port is taken.
      const TakenPort taken;
      Worker leader;
      Worker follower;
      leader.start(0, 2, taken.port(), arguments("run.json", "a"));
      follower.start(1, 2, taken.port(), arguments("run.json", "a"));
      QVERIFY(leader.finish() != 0);
      follower.finish();
      const QByteArray error = leader.process.readAllStandardError();
      QVERIFY2(error.contains("port is in use"), error.constData());
    }
    {  // The workers disagree on WORLD_SIZE.
      const int port = freePort();
      Worker leader;
      Worker follower;
      leader.start(0, 2, port, arguments("run.json", "b"));
      follower.start(1, 3, port, arguments("run.json", "b"));
      QVERIFY(follower.finish() != 0);
      leader.finish();
      const QByteArray error = follower.process.readAllStandardError();
      QVERIFY2(error.contains("disagree on the world size"), error.constData());
    }
    {  // The workers were given different configs.
      const int port = freePort();
      Worker leader;
      Worker follower;
      leader.start(0, 2, port, arguments("run.json", "c"));
      follower.start(1, 2, port, arguments("other.json", "c"));
      QVERIFY(leader.finish() != 0);
      QVERIFY(follower.finish() != 0);
      const QByteArray error = leader.process.readAllStandardError();
      QVERIFY2(error.contains("differs between rank 1"), error.constData());
      QVERIFY(!std::filesystem::exists(dir / "c" / "stripes-seed1" / "model.pt"));
    }
  }
};

BRAINPRIOR_TEST_CLASS(TestDataParallel)
#include "test_data_parallel.moc"
