#pragma once
// QCustomPlot, for a build with QT_NO_KEYWORDS: its header uses Qt's bare `signals` and `foreach`,
// which that rule removes (the rule exists because LibTorch uses `slots` as a name). They are
// defined for this one header and restored after it; include QCustomPlot only through here.
#pragma push_macro("signals")
#pragma push_macro("foreach")
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#pragma pop_macro("foreach")
#pragma pop_macro("signals")
