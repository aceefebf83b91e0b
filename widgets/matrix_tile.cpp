#include "widgets/matrix_tile.h"

#include <cmath>
#include <limits>
#include <vector>

namespace bp::widgets {
namespace {

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

}  // namespace

QRect MatrixTile::sourceWindow(int sourceRows, int sourceCols) const {
  const QRect covered(firstCol, firstRow, cols * colFactor, rows * rowFactor);
  return covered.intersected(QRect(0, 0, sourceCols, sourceRows));
}

MatrixTile blockMeanTile(const float* values, int rows, int cols, const QRect& window, int maxCellsPerSide) {
  MatrixTile tile;
  const QRect clipped = window.intersected(QRect(0, 0, cols, rows));
  if (!values || clipped.isEmpty() || maxCellsPerSide < 1) return tile;

  tile.firstRow = clipped.top();
  tile.firstCol = clipped.left();
  tile.rowFactor = ceilDiv(clipped.height(), maxCellsPerSide);
  tile.colFactor = ceilDiv(clipped.width(), maxCellsPerSide);
  tile.rows = ceilDiv(clipped.height(), tile.rowFactor);
  tile.cols = ceilDiv(clipped.width(), tile.colFactor);
  tile.values.resize(static_cast<qsizetype>(tile.rows) * tile.cols);

  if (tile.rowFactor == 1 && tile.colFactor == 1) {  // full resolution: a plain copy of the window
    for (int r = 0; r < tile.rows; ++r) {
      const float* source = values + static_cast<qsizetype>(tile.firstRow + r) * cols + tile.firstCol;
      std::copy(source, source + tile.cols, tile.values.begin() + static_cast<qsizetype>(r) * tile.cols);
    }
    return tile;
  }

  // Accumulate one band of rowFactor source rows at a time into per-column-block sums.
  std::vector<double> sums(static_cast<std::size_t>(tile.cols));
  std::vector<int> counts(static_cast<std::size_t>(tile.cols));
  for (int tileRow = 0; tileRow < tile.rows; ++tileRow) {
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    const int rowBegin = tile.firstRow + tileRow * tile.rowFactor;
    const int rowEnd = std::min(rowBegin + tile.rowFactor, clipped.bottom() + 1);
    for (int r = rowBegin; r < rowEnd; ++r) {
      const float* source = values + static_cast<qsizetype>(r) * cols;
      for (int tileCol = 0; tileCol < tile.cols; ++tileCol) {
        const int colBegin = tile.firstCol + tileCol * tile.colFactor;
        const int colEnd = std::min(colBegin + tile.colFactor, clipped.right() + 1);
        double sum = 0.0;
        int count = 0;
        for (int c = colBegin; c < colEnd; ++c) {
          const float value = source[c];
          if (!std::isnan(value)) {
            sum += value;
            ++count;
          }
        }
        sums[static_cast<std::size_t>(tileCol)] += sum;
        counts[static_cast<std::size_t>(tileCol)] += count;
      }
    }
    float* out = tile.values.data() + static_cast<qsizetype>(tileRow) * tile.cols;
    for (int tileCol = 0; tileCol < tile.cols; ++tileCol) {
      const int count = counts[static_cast<std::size_t>(tileCol)];
      out[tileCol] = count > 0 ? static_cast<float>(sums[static_cast<std::size_t>(tileCol)] / count)
                               : std::numeric_limits<float>::quiet_NaN();
    }
  }
  return tile;
}

MatrixTile downsampleBlockMean(const float* values, int rows, int cols, int maxCellsPerSide) {
  return blockMeanTile(values, rows, cols, QRect(0, 0, cols, rows), maxCellsPerSide);
}

}  // namespace bp::widgets
