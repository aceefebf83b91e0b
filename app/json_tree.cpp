#include "app/json_tree.h"

#include <QHeaderView>

namespace bp::app {
namespace {

QString scalarText(const nlohmann::json& value) {
  if (value.is_string()) return QString::fromStdString(value.get<std::string>());
  if (value.is_number_float()) return QString::number(value.get<double>(), 'g', 4);
  if (value.is_null()) return QStringLiteral("—");
  return QString::fromStdString(value.dump());
}

void addChildren(QTreeWidgetItem* parent, const nlohmann::json& value) {
  for (const auto& [key, item] : value.items()) {
    auto* row = new QTreeWidgetItem(parent);
    row->setText(0, QString::fromStdString(key));
    if (item.is_object()) {
      addChildren(row, item);
    } else {
      row->setText(1, scalarText(item));
      row->setToolTip(1, row->text(1));
    }
  }
}

}  // namespace

void fillJsonTree(QTreeWidget* tree, const nlohmann::json& value) {
  tree->clear();
  tree->setColumnCount(2);
  tree->setHeaderLabels({QStringLiteral("Property"), QStringLiteral("Value")});
  addChildren(tree->invisibleRootItem(), value);
  tree->expandToDepth(0);
  tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
}

}  // namespace bp::app
