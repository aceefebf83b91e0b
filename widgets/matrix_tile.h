#pragma once
// Block-mean tiles of a large row-major matrix: what the heatmap actually draws. A tile covers a
// window of the source matrix; each tile cell is the mean of rowFactor x colFactor source cells
// (fewer at the window's bottom and right edges), ignoring NaNs.
#include <QRect>
#include <QVector>

namespace bp::widgets {

struct MatrixTile {
  QVector<float> values;  // rows * cols block means, row-major
  int rows = 0;           // tile cells down
  int cols = 0;           // tile cells across
  int firstRow = 0;       // source row of the tile's top edge
  int firstCol = 0;       // source column of the tile's left edge
  int rowFactor = 1;      // source rows per tile row
  int colFactor = 1;      // source columns per tile column

  bool isEmpty() const { return rows == 0 || cols == 0; }
  float at(int row, int col) const { return values[static_cast<qsizetype>(row) * cols + col]; }
  // The window of source cells this tile covers (x = column, y = row).
  QRect sourceWindow(int sourceRows, int sourceCols) const;
};

// The block-mean tile of `window` (x = column, y = row; clipped to the matrix) with at most
// `maxCellsPerSide` cells along each side. Integer block factors: ceil(extent / maxCellsPerSide).
MatrixTile blockMeanTile(const float* values, int rows, int cols, const QRect& window, int maxCellsPerSide);

// The whole matrix, block-averaged down to at most `maxCellsPerSide` cells per side.
MatrixTile downsampleBlockMean(const float* values, int rows, int cols, int maxCellsPerSide);

}  // namespace bp::widgets
