/*
 * Metrics in the Prometheus text format, for the daemon's /metrics.
 *
 * A registry of families (counter, gauge, histogram), each declared once
 * with its help text, and series within them told apart by label values.
 * Label values are escaped here, so any string may be one. Thread-safe:
 * the reconcile loop and the HTTP server update and render concurrently.
 *
 * Ownership: the registry copies every name, help text and label.
 */
#ifndef SAGESYNC_CONTROLLER_METRICS_H
#define SAGESYNC_CONTROLLER_METRICS_H

#include "buf.h"

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics;

void metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);

/* Declares a family; histograms take their bucket bounds (ascending). */
void metrics_declare(struct metrics *m, const char *name,
		     enum metrics_type type, const char *help);
void metrics_declare_histogram(struct metrics *m, const char *name,
			       const char *help, const double *bounds,
			       size_t n_bounds);

/*
 * Updates the series of family `name` with the labels `labels` (name,
 * value pairs, NULL-terminated; NULL for none): add to a counter or gauge,
 * set a gauge, observe a value of a histogram.
 */
void metrics_add(struct metrics *m, const char *name, const char *const *labels,
		 double by);
void metrics_set(struct metrics *m, const char *name, const char *const *labels,
		 double value);
/*
 * Sets the series `labels` of a gauge and drops the family's other
 * series: for info metrics, whose one series moves (a new revision).
 */
void metrics_replace(struct metrics *m, const char *name,
		     const char *const *labels, double value);
void metrics_observe(struct metrics *m, const char *name,
		     const char *const *labels, double value);
/* The value of a counter or gauge series (0 when it has none yet). */
double metrics_get(struct metrics *m, const char *name,
		   const char *const *labels);

/* Every family, in the order declared, as Prometheus text. */
void metrics_render(struct metrics *m, struct buf *out);

#endif
