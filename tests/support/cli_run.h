#pragma once
// brainprior-cli run as a user runs it (with --quiet): its exit code, stdout and stderr.
#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

namespace bp::test {

struct CliRun {
  int exitCode = -1;
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

inline CliRun runCli(const QStringList& arguments) {
  QProcess process;
  process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), QStringList{QStringLiteral("--quiet")} + arguments);
  process.waitForFinished(-1);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAllStandardOutput(),
          process.readAllStandardError()};
}

}  // namespace bp::test
