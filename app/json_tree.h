#pragma once
// Shows engine summaries (nested JSON) as an expandable key/value tree.
#include <QTreeWidget>
#include <nlohmann/json.hpp>

namespace bp::app {

void fillJsonTree(QTreeWidget* tree, const nlohmann::json& value);

}  // namespace bp::app
