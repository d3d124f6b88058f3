/* The binary interface of a loadable Hydra plugin: plain C, versioned, with no
 * C++ exception, STL type or allocation crossing it. A plugin is a shared
 * object that exports one function, hydra_plugin_entry(), which returns a
 * descriptor; the host (libhydra_plugin, `hydra plugin check`) reads it under
 * these rules (docs/plugins.md, "The C ABI"):
 *
 * - The descriptor, and each kind it lists, starts with its own size in
 *   bytes, then (the descriptor) the ABI version the plugin was built
 *   against. The host refuses a plugin of another major version, or of a
 *   newer minor version than its own; it accepts an older minor version and
 *   then reads only the fields that version has: never past the size the
 *   plugin declared. A field added by a later minor version goes at the end
 *   of its struct, and the host treats it as absent (NULL, 0) when the
 *   plugin's struct is shorter.
 * - Strings passed in either direction are (pointer, length) views, valid
 *   for the call only, not NUL-terminated unless said so. Whatever one side
 *   allocates, that side frees: the host copies what a plugin hands it, and
 *   a plugin copies what it keeps of a record.
 * - A callback reports failure by returning a negative number and writing a
 *   one-line reason to `error` (which may be NULL). It never lets a C++
 *   exception out (hydra/plugin/sdk.hpp catches them for you).
 * - Unless a kind sets HYDRA_KIND_THREAD_SAFE, the host calls one instance
 *   from one thread at a time.
 *
 * The history of the version: 1.0, the first; 1.1 added hydra_kind.health;
 * 1.2 added hydra_kind.delivery (and hydra_delivery_counts). */
#ifndef HYDRA_PLUGIN_ABI_H
#define HYDRA_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYDRA_PLUGIN_ABI_MAJOR 1
#define HYDRA_PLUGIN_ABI_MINOR 2

/* The name of the one function a plugin exports. */
#define HYDRA_PLUGIN_ENTRY_NAME "hydra_plugin_entry"

/* A view of bytes: `size` bytes at `data` (NULL when size is 0). */
typedef struct hydra_str {
  const char* data;
  size_t size;
} hydra_str;

/* Levels, as hydra::Level numbers them. */
enum hydra_level {
  HYDRA_LEVEL_TRACE = 0,
  HYDRA_LEVEL_DEBUG = 1,
  HYDRA_LEVEL_INFO = 2,
  HYDRA_LEVEL_WARNING = 3,
  HYDRA_LEVEL_ERROR = 4,
  HYDRA_LEVEL_CRITICAL = 5,
  HYDRA_LEVEL_SECURITY = 6,
  HYDRA_LEVEL_AUDIT = 7,
  HYDRA_LEVEL_COMPLIANCE = 8
};

enum hydra_value_type {
  HYDRA_VALUE_NULL = 0,
  HYDRA_VALUE_BOOL = 1,
  HYDRA_VALUE_INT = 2,  /* int64_t */
  HYDRA_VALUE_UINT = 3, /* uint64_t */
  HYDRA_VALUE_DOUBLE = 4,
  HYDRA_VALUE_STRING = 5
};

/* One structured field of a record. */
typedef struct hydra_field {
  hydra_str key;
  int32_t type; /* enum hydra_value_type */
  union {
    int32_t boolean;
    int64_t i64;
    uint64_t u64;
    double f64;
    hydra_str str;
  } value;
} hydra_field;

/* A record, as every stage sees it (see hydra/core/record.hpp). The message
 * and fields are raw: a formatter escapes them. */
typedef struct hydra_record {
  uint32_t size; /* sizeof(hydra_record) as the host built it */
  int32_t level; /* enum hydra_level */
  int64_t time_unix_ns;
  hydra_str layer;
  hydra_str logger;
  hydra_str message;
  const hydra_field* fields;
  size_t field_count;
  hydra_str file; /* empty when the record has no source */
  hydra_str function;
  uint32_t line;
  uint64_t thread_id;
  uint64_t sequence;
} hydra_record;

/* Bytes the host collects: a formatter's line, an error message, a JSON
 * document. The host copies what is appended. */
typedef struct hydra_buffer {
  void* context;
  void (*append)(void* context, const char* data, size_t size);
} hydra_buffer;

/* What a filter may change in the record it is given. The host copies every
 * string. */
typedef struct hydra_record_edit {
  void* context;
  void (*add_field)(void* context, const hydra_field* field);
  void (*set_level)(void* context, int32_t level);
  void (*set_layer)(void* context, hydra_str layer);
} hydra_record_edit;

/* Records an analytics plugin writes from tick(): they enter the logger's
 * pipeline as its own records do. */
typedef struct hydra_emitter {
  void* context;
  void (*emit)(void* context, int32_t level, hydra_str layer, hydra_str message,
               const hydra_field* fields, size_t field_count);
} hydra_emitter;

/* Where a detector reports the sensitive spans it finds: bytes [begin, end)
 * of the text it was given, in increasing order, not overlapping. */
typedef struct hydra_span_sink {
  void* context;
  void (*add)(void* context, size_t begin, size_t end);
} hydra_span_sink;

/* One option, as configuration gives it: the value as text ("10", "true",
 * "2s", "a,b"), already checked by the host against the option's spec. */
typedef struct hydra_option {
  hydra_str key;
  hydra_str value;
} hydra_option;

enum hydra_option_type {
  HYDRA_OPTION_STRING = 0,
  HYDRA_OPTION_INTEGER = 1,    /* within [min, max] */
  HYDRA_OPTION_NUMBER = 2,     /* within [min, max] */
  HYDRA_OPTION_BOOLEAN = 3,    /* "true" or "false" */
  HYDRA_OPTION_DURATION = 4,   /* "250ms", "10s", "5m", "1h"; given in milliseconds */
  HYDRA_OPTION_STRING_LIST = 5 /* "a,b,c" */
};

/* An option a kind declares. The host validates configuration against these
 * as strictly as its own options, fills in defaults, and `hydra config
 * explain` shows them. Strings are NUL-terminated and static. */
typedef struct hydra_option_spec {
  const char* name;
  int32_t type; /* enum hydra_option_type */
  int32_t required;
  const char* default_value; /* NULL: none */
  const char* doc;           /* one line */
  double min;                /* INTEGER, NUMBER, DURATION (ms); min > max: unbounded */
  double max;
} hydra_option_spec;

enum hydra_kind_type {
  HYDRA_KIND_SINK = 1,      /* write, flush */
  HYDRA_KIND_FORMATTER = 2, /* format */
  HYDRA_KIND_FILTER = 3,    /* filter */
  HYDRA_KIND_DETECTOR = 4,  /* detect, token */
  HYDRA_KIND_ANALYTICS = 5  /* observe, tick, insights */
};

/* hydra_kind.flags */
#define HYDRA_KIND_THREAD_SAFE 1u /* the host may call one instance from several threads */

/* reconfigure()'s answer when the instance cannot take the new options
 * (not a failure): the host stops it and makes a new one from them. */
#define HYDRA_RECONFIGURE_DECLINED 1

/* filter()'s verdicts */
#define HYDRA_FILTER_KEEP 0
#define HYDRA_FILTER_DROP 1

/* One type a plugin provides. Every callback takes the instance that create()
 * returned; callbacks a kind does not use are NULL. Return values: 0 (or a
 * verdict) on success, negative on failure with a reason in `error`. */
/* A network sink's accounting (docs/shipping.md, "Accounting"), as
 * hydra::DeliveryCounts holds it: every record submitted is delivered,
 * dead-lettered, spooled, dropped for one of the reasons, or queued.
 * `size` is sizeof(hydra_delivery_counts) as the host compiled it: the
 * plugin writes no further, and a field it does not know stays 0. */
typedef struct hydra_delivery_counts {
  uint32_t size;
  uint64_t submitted;
  uint64_t delivered;
  uint64_t dead_lettered;
  uint64_t spooled;
  uint64_t dropped_queue_full;
  uint64_t dropped_oldest;
  uint64_t dropped_oversize;
  uint64_t dropped_spool_full;
  uint64_t dropped_spool_error;
  uint64_t dropped_rejected;
  uint64_t dropped_retry_elapsed;
  uint64_t dropped_shutdown;
  uint64_t retries;
  uint64_t queued;
  uint64_t queue_bytes;
  int64_t oldest_time_ns; /* of the oldest record not yet delivered; 0: none */
} hydra_delivery_counts;

/* What hydra_kind.delivery returns for an instance that ships nothing. */
#define HYDRA_DELIVERY_NONE 1

typedef struct hydra_kind {
  uint32_t size;           /* sizeof(hydra_kind) as the plugin compiled it */
  int32_t kind;            /* enum hydra_kind_type */
  const char* type_name;   /* the name configuration uses: [a-z0-9_]+ */
  const char* description; /* one line */
  const hydra_option_spec* options;
  size_t option_count;
  uint32_t flags;
  const char* token; /* detectors: the <TYPE> of [REDACTED_<TYPE>] */

  /* The lifecycle: create(options) -> start -> reconfigure(options)* -> stop
   * -> destroy. create returns NULL on failure. reconfigure returns 0 when
   * it took the options, HYDRA_RECONFIGURE_DECLINED when it cannot; it may
   * be NULL (the host then makes a new instance on a configuration reload). */
  void* (*create)(const hydra_option* options, size_t option_count, hydra_buffer* error);
  int (*start)(void* self, hydra_buffer* error);
  int (*reconfigure)(void* self, const hydra_option* options, size_t option_count,
                     hydra_buffer* error);
  void (*stop)(void* self);
  void (*destroy)(void* self);

  /* sink: `bytes` is the record as its destination formatted it. */
  int (*write)(void* self, const hydra_record* record, hydra_str bytes, hydra_buffer* error);
  int (*flush)(void* self, hydra_buffer* error);
  /* formatter: appends exactly one line ('\n' included) to `out`. */
  int (*format)(void* self, const hydra_record* record, hydra_buffer* out, hydra_buffer* error);
  /* filter: HYDRA_FILTER_KEEP or HYDRA_FILTER_DROP; changes go through `edit`. */
  int (*filter)(void* self, const hydra_record* record, const hydra_record_edit* edit,
                hydra_buffer* error);
  /* detector */
  int (*detect)(void* self, hydra_str text, const hydra_span_sink* spans, hydra_buffer* error);
  /* analytics: observe every record (after protection, read-only); tick on
   * the interval the host's configuration sets; insights() appends a JSON
   * object. */
  int (*observe)(void* self, const hydra_record* record, hydra_buffer* error);
  int (*tick)(void* self, int64_t now_unix_ns, const hydra_emitter* emit, hydra_buffer* error);
  int (*insights)(void* self, hydra_buffer* out, hydra_buffer* error);

  /* 1.1: appends a JSON object on the instance's health ({"ok": true, ...}).
   * May be NULL. */
  int (*health)(void* self, hydra_buffer* out, hydra_buffer* error);

  /* 1.2, sinks: a sink that ships records over a network fills `counts`,
   * appends its destination's name ("splunk_hec https://host:8088") to
   * `name` and its last error ("" when none) to `last_error`, and returns
   * 0; the host lists them in its metrics (metrics().destinations) and, at
   * the end, in its audit trail. HYDRA_DELIVERY_NONE: the instance has no
   * such counts. May be NULL. Such a sink's stop() ends its deliveries (what
   * is left goes to its spool, or is counted), so that the counts read
   * after it are final. */
  int (*delivery)(void* self, hydra_delivery_counts* counts, hydra_buffer* name,
                  hydra_buffer* last_error, hydra_buffer* error);
} hydra_kind;

/* What hydra_plugin_entry() returns: static data that lives as long as the
 * shared object is loaded. */
typedef struct hydra_plugin_descriptor {
  uint32_t size; /* sizeof(hydra_plugin_descriptor) as the plugin compiled it */
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* name;        /* the plugin's name: [a-z0-9_-]+ */
  const char* version;     /* its own version, e.g. "1.2.0" */
  const char* description; /* one line */
  const hydra_kind* kinds; /* kind_count entries, each `kind_size` bytes apart */
  size_t kind_count;
  uint32_t kind_size; /* sizeof(hydra_kind) as the plugin compiled it */
} hydra_plugin_descriptor;

typedef const hydra_plugin_descriptor* (*hydra_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* HYDRA_PLUGIN_ABI_H */
