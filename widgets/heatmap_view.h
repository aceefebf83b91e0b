#pragma once
// A matrix as a colour map with a colour bar: representational similarity/dissimilarity matrices,
// confusion matrices, weight maps. Row 0 is at the top, column 0 at the left. Mouse wheel zooms,
// drag pans, double-click resets. Hovering reports the cell under the cursor.
//
// Views of matrices over the same images can be linked: visibleCellsChanged and showCells carry
// one view's zoom and pan to another. Groups of consecutive rows (classes after ordering by label)
// can be named on the axes and separated by lines.
//
// Large matrices (5,000 x 5,000 and more) stay smooth by drawing one of two levels of detail:
//  - the overview: block means of the whole matrix, at most kMaxDisplayCellsPerSide per side;
//  - full resolution: an exact copy of the visible window (plus a margin for panning), used only
//    while the visible region is at most kMaxDisplayCellsPerSide cells on each side.
// Matrices that already fit are always drawn at full resolution.
#include <QRectF>
#include <QString>
#include <QVector>
#include <QWidget>
#include <array>
#include <optional>
#include <utility>

#include "widgets/colormaps.h"
#include "widgets/matrix_tile.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCPItemLine;

namespace bp::widgets {

class HeatmapView : public QWidget {
  Q_OBJECT

public:
  static constexpr int kMaxDisplayCellsPerSide = 1024;

  explicit HeatmapView(QWidget* parent = nullptr);

  // Row-major rows x cols values (rows and cols may differ). Resets the zoom; keeps the colour
  // range unless it is automatic. A size mismatch clears the view (with a warning).
  void setMatrix(const QVector<float>& values, int rows, int cols);
  void clear();
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  // The value of a cell, NaN outside the matrix.
  double valueAt(int row, int col) const;

  void setColorRange(double low, double high);
  // The finite min..max of the matrix; symmetric around zero for a diverging colormap.
  void setAutoColorRange();
  std::pair<double, double> colorRange() const;

  void setColormap(Colormap colormap);
  Colormap colormap() const { return colormap_; }
  // For a projector (presentation mode): sequential colormaps are drawn as magma, whose lightness
  // runs from black to near white, the widest range of the sequential maps, so that washed-out
  // projection still separates values; diverging maps already span it. colormap() keeps the chosen
  // map, so switching it off draws that map again.
  void setHighContrast(bool highContrast);
  bool highContrast() const { return highContrast_; }
  // The colormap drawn now: colormap(), or its high-contrast substitute.
  Colormap shownColormap() const;

  void setTitle(const QString& title);
  void setAxisTitles(const QString& columnTitle, const QString& rowTitle, const QString& colorTitle = QString());

  // The (row, col) of the cell drawn at this position (in this widget's coordinates), if any.
  std::optional<std::pair<int, int>> cellAt(const QPoint& widgetPos) const;
  // The hovered cell, framed on the matrix; nothing while the cursor is off it.
  std::optional<std::pair<int, int>> framedCell() const;

  // Shows the whole matrix.
  void resetZoom();
  // The visible region in cell units: x and width over columns, y and height over rows, from the
  // outer edge of a cell (the whole matrix is (-0.5, -0.5, cols, rows)).
  QRectF visibleCells() const;
  // Shows `cells` (limited to the matrix) without emitting visibleCellsChanged, so that linked
  // views do not echo each other.
  void showCells(const QRectF& cells);

  // Consecutive rows (and the same columns) that belong together, e.g. one class.
  struct Group {
    int first = 0;
    int count = 0;
    QString name;
  };
  // Names each group at its middle on both axes, instead of cell indices, and draws lines at the
  // boundaries between groups. An empty list brings back the cell indices; setMatrix clears the groups.
  void setGroups(const QVector<Group>& groups);
  const QVector<Group>& groups() const { return groups_; }
  bool isShowingFullResolution() const;
  const MatrixTile& overviewTile() const { return overview_; }

  QCustomPlot* plot() const { return plot_; }

Q_SIGNALS:
  // The cell under the cursor changed; (-1, -1, NaN) when the cursor leaves the matrix.
  void cellHovered(int row, int col, double value);
  // shownColormap() changed (a new colormap, or high contrast switched).
  void shownColormapChanged();
  // The user zoomed or panned, or the zoom was reset: the region visibleCells() now returns.
  void visibleCellsChanged(const QRectF& cells);

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  void onAxisRangeChanged();
  void updateDetailForVisibleRange();
  QRect visibleCellWindow() const;
  void showOverview();
  void showFullResolution(const QRect& window);
  void loadTile(QCPColorMap* map, const MatrixTile& tile) const;
  void applyColorRange(double low, double high);
  void updateHover(const QPoint& widgetPos);
  void clearHover();
  // Frames the hovered cell (or hides the frame), in two tones that show on any colormap.
  void frameHoveredCell();
  // After the drawn colormap may have changed: the colour scale, the range, shownColormapChanged.
  void redrawColormap(Colormap shownBefore);

  QCustomPlot* plot_;
  QCPColorMap* overviewMap_;
  QCPColorMap* detailMap_;
  QCPColorScale* colorScale_;

  QVector<float> values_;
  int rows_ = 0;
  int cols_ = 0;
  double finiteMin_ = 0.0;
  double finiteMax_ = 1.0;

  MatrixTile overview_;
  QRect detailWindow_;  // source cells held by detailMap_ (x = column, y = row)
  Colormap colormap_ = Colormap::Viridis;
  bool highContrast_ = false;
  bool autoColorRange_ = true;
  bool limitingRanges_ = false;
  bool followingLink_ = false;  // inside showCells
  QVector<Group> groups_;
  QVector<QCPItemLine*> groupBoundaries_;
  std::pair<int, int> hoveredCell_{-1, -1};
  std::array<QCPItemRect*, 2> hoverFrame_{};  // dark outer, light inner
};

}  // namespace bp::widgets
