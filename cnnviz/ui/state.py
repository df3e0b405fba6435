"""Every session-state key in one place, and the one ``init_state()``.

Session state holds choices, bytes and numpy arrays — never tensors or models (those are
shared through the project's caches, cnnviz/serving/cache.py).
"""

import streamlit as st

from cnnviz.i18n import N_

# sidebar choices (widget keys: kept across page switches because app.py renders them)
MODEL = "model_name"
WEIGHTS = "weights_choice"
TIMM_NAME = "timm_name"  # the sidebar's "Any timm CNN, by name" field
TIMM_ERROR = "timm_error"  # why the last name typed there was refused
IMAGE_SOURCE = "image_source"
GALLERY = "gallery_choice"
UPLOAD = "image_upload"
CAMERA = "camera_photo"

# the image every page works on, taken out of the widgets (an uploader forgets its file
# when it is not rendered): plain bytes for a gallery photo or a drawing, a held_photos.Photo
# ticket for an upload, a camera shot or a linked photo (read it with held_photos.current())
IMAGE_BYTES = "image_bytes"
IMAGE_NAME = "image_name"
IMAGE_REF = "image_ref"  # the image's name in links: a gallery name or "upload:<sha256>" (None: not yet shared)

# links (cnnviz/ui/links.py): presenter mode, and what this session last wrote to its URL
PRESENT = "link_present"  # presenter mode toggle (present=1)
LOCK = "link_lock"  # presenter mode with choices locked to the URL (lock=1)
LINK_LAST = "link_last"  # {"page": url path, "params": {name: text}} written after the last run
LINK_WRITTEN = "link_written"  # {canonical query string: url path} of recent views
LINK_PAGES = "link_pages"  # {url path: {name: text}}: each page's parameters when last shown

WEIGHTS_PRETRAINED = "pretrained"
WEIGHTS_RANDOM = "random"
WEIGHTS_FILE = "file"
WEIGHTS_UPLOAD = "weights_upload"  # the checkpoint uploader widget
WEIGHTS_PATH = "weights_path"  # where the uploaded checkpoint was stored (None: none yet)
WEIGHTS_LINKED = "weights_linked"  # the stored checkpoint a link opened: another's upload, never deleted here
# the sidebar's form for an ONNX file's preprocessing (cnnviz.ui.onnx_form); each key gets the
# file's digest appended, so a new file starts with its own values
ONNX_FORM = "onnx_form"
ONNX_MEAN = "onnx_mean"
ONNX_STD = "onnx_std"
ONNX_ORDER = "onnx_order"
ONNX_RANGE = "onnx_range"
ONNX_RESIZE = "onnx_resize"
ONNX_LABELS = "onnx_labels"

# option values (keys): marked for the catalogue, translated where shown (format_func)
SOURCE_GALLERY = N_("Gallery")
SOURCE_UPLOAD = N_("Upload")
SOURCE_CAMERA = N_("Camera")

DEFAULT_MODEL = "efficientnet_lite0"
DEFAULT_GALLERY = "grace_hopper"

# convolution page (widget keys)
CONV_PRESET = "conv_preset"
CONV_SIZE = "conv_size"
CONV_KERNEL = "conv_kernel"  # the st.data_editor; cleared when the preset or size changes
CONV_CELLS = "conv_cells"  # the kernel's values row by row when edited (links: cells=), else None: the preset
CONV_STRIDE = "conv_stride"
CONV_PADDING = "conv_padding"
CONV_COLOUR = "conv_colour"
CONV_PATCH_ROW = "conv_patch_row"
CONV_PATCH_COL = "conv_patch_col"
CONV_POS = "conv_pos"
CONV_FILTER = "conv_filter"
CONV_INPUT_CLICK = "conv_input_click"  # the clickable input picture
CONV_ROW = "conv_row"  # the output position stepped through (links: row=, col=)
CONV_COL = "conv_col"
CONV_AT = "conv_at"  # (k, stride, padding, row, col) of the step shown: kept in place when k/S/P change
CONV_FIXED = "conv_fixed_scale"  # output drawn on a fixed −1…1 scale instead of its own range

# activations page
ACT_FN = "act_fn"
ACT_SLOPE = "act_slope"
ACT_SOURCE = "act_source"
ACT_CHANNEL = "act_channel"
ACT_TEMP = "act_temperature"

# pooling page
POOL_SOURCE = "pool_source"
POOL_LAYER = "pool_layer"
POOL_CHANNEL = "pool_channel"
POOL_K = "pool_kernel"
POOL_STRIDE = "pool_stride"
POOL_ROW = "pool_zoom_row"
POOL_COL = "pool_zoom_col"
POOL_CLICK = "pool_map_click"  # the clickable "before" map
POOL_NET_LAYER = "pool_net_layer"
POOL_NET_CHANNEL = "pool_net_channel"

# inside the network (model / feature maps / filters pages)
FEAT_LAYER = "feat_layer"  # layer picker (its block picker: FEAT_LAYER + "_block")
FEAT_SORT = "feat_sort"
FEAT_NORM = "feat_norm"
FEAT_CHANNEL = "feat_channel"
FEAT_ROW = "feat_unit_row"
FEAT_COL = "feat_unit_col"
FILT_LAYER = "filt_layer"
FILT_MODE = "filt_mode"
FILT_CHANNEL = "filt_channel"
FILT_NORM = "filt_norm"
FILT_CLICK = "filt_click"  # the clickable filter grid (a click opens the Channel page)
MODEL_KINDS = "model_table_kinds"
MODEL_EXPAND = "model_graph_open"  # blocks opened in the architecture diagram
MODEL_EXPAND_ALL = "model_graph_open_all"
FEAT_GRID_CLICK = "feat_grid_click"  # clickable pictures (cnnviz.ui.clickable)
FEAT_UNIT_CLICK = "feat_unit_click"
NET_N = "net_strongest"  # Network page
NET_NORM = "net_norm"
NET_LAYER = "net_layer"  # the clicked thumbnail: layer name, channel, and a unit of it
NET_CHANNEL = "net_channel"
NET_ROW = "net_unit_row"
NET_COL = "net_unit_col"
NET_CLICK = "net_click"
NET_UNIT_CLICK = "net_unit_click"
CH_LAYER = "ch_layer"  # Channel page (its block picker: CH_LAYER + "_block")
CH_CHANNEL = "ch_channel"
CH_STEPS = "ch_steps"
CH_FV_START = "ch_featvis_start"
CH_FV_STOP = "ch_featvis_stop"
CH_EX_START = "ch_examples_start"
CH_EX_STOP = "ch_examples_stop"
CH_OPEN = "ch_open"  # "open the Channel page" buttons on other pages
QUERY_APPLIED = "query_applied"  # page -> the URL selection already applied (cnnviz.ui.selection)

# this tab's id in the job queue (cnnviz.serving.jobs, cnnviz.ui.job_views): its jobs are found by it
JOB_TAB = "job_tab"

# Train page (the model being trained is the task of this tab's "train" job: cnnviz.training.trainer)
TRAIN_SOURCE = "train_source"
TRAIN_SIZE = "train_size"
TRAIN_GREY = "train_grey"
TRAIN_FOLDER_UPLOAD = "train_folder_upload"
TRAIN_ZIP_UPLOAD = "train_zip_upload"
TRAIN_FILES = "train_files"  # the upload's ticket (held_uploads.Held): its bytes live in held_uploads.STORE
TRAIN_FILES_ERROR = "train_files_error"  # why the last folder was not kept (None: it was)
TRAIN_CAMERA = "train_camera"  # the camera widget of "your camera" data
TRAIN_SHOT_CLASS = "train_shot_class"  # the class the next photo joins
TRAIN_SHOTS = "train_shots"  # {class name: [small JPEG bytes]} (cnnviz/training/shots.py)
TRAIN_SHOT_ERROR = "train_shot_error"  # why the last photo was not added (None: it was)
TRAIN_SHOTS_CLEAR = "train_shots_clear"
TRAIN_ARCH = "train_arch"
TRAIN_BLOCKS = "train_blocks"
TRAIN_WIDTH = "train_width"
TRAIN_KERNEL = "train_kernel"
TRAIN_ACT = "train_act"
TRAIN_POOL = "train_pool"
TRAIN_BN = "train_bn"
TRAIN_DROPOUT = "train_dropout"
TRAIN_AUG_FOR = "train_aug_for"  # dataset whose recipe (training/recipes.py) the widgets started from
TRAIN_FLIP = "train_flip"
TRAIN_ROT = "train_rotate"
TRAIN_SHIFT = "train_shift"
TRAIN_BRIGHT = "train_brightness"
TRAIN_EPOCHS = "train_epochs"
TRAIN_BATCH = "train_batch"
TRAIN_LR = "train_lr"
TRAIN_OPT = "train_optimizer"
TRAIN_SHOWN = "train_shown_status"  # last status the full page drew (a change → rerun)
TRAIN_LIVE = "train_live"  # the container of Train/Stop and the live charts (scrolled to on Train)
TRAIN_SAVE_NAME = "train_save_name"
TRAIN_SHARE = "train_share"  # share the saved model with the class (default: CNNVIZ_SHARE_MODELS)
NAME_TAG = "model_name_tag"  # the random part of this session's default model names (results.name_tag)
OWNER = "owner_token"  # this browser's owner token (cookie cnnviz_owner), see ui/owner.py
STUDENT = "student_key"  # whom fairness counts this session as (ui/owner.student)
TRAIN_SAVED = "train_saved_path"
# This session after its process was lost (ui/replica.py): the notices it shows, and on which page
REPLICA_SEEN = "replica_seen"  # the session's first run has been checked
REPLICA_NOTES = "replica_notes"  # (page url path, notice text) pairs, shown while that page is open

# Explanations (Grad-CAM, method comparison, adversarial pages)
GC_LAYER = "gc_layer"  # layer picker (its block picker: GC_LAYER + "_block")
EXPLAIN_TARGET = "explain_target"  # the class every explanation page explains (plain data, not a widget)
EXPLAIN_TARGET_FOR = "explain_target_for"  # (model, weights, image digest) it was chosen for: else top-1
GC_TARGET = "gc_target"  # Grad-CAM's class picker; shows and sets EXPLAIN_TARGET
GC_ALPHA = "gc_alpha"
GC_CMAP = "gc_cmap"
# the colours of every explanation map (plain data): set by Grad-CAM's and Compare methods'
# pickers, used by Fool the network and Compare models too, so a colour-blind-safe choice
# made once holds on every page
EXPLAIN_CMAP = "explain_cmap"
XM_CMAP = "xm_cmap"  # Compare methods' colour picker; shows and sets EXPLAIN_CMAP
GC_SIGNED = "gc_signed"
GC_SWEEP = "gc_sweep"  # the layer sweep is computed only once this toggle is on
XM_TARGET = "xm_target"  # Compare methods' class picker; shows and sets EXPLAIN_TARGET
XM_SLOW_FOR = "xm_slow_for"  # (model, weights, digest, target) the slow methods were asked for
XM_FAITH_FOR = "xm_faith_for"  # same, for the faithfulness curves
ADV_EPS = "adv_eps"  # epsilon in 1/255 pixel units
ADV_GOAL = "adv_goal"  # the class a targeted attack pushes towards; -1: FGSM (any wrong class)
ADV_USE_PHOTO = "adv_use_photo"  # button: switch to the gallery photo the attack works best on

# Preprocessing page
PRE_ROW = "pre_pixel_row"
PRE_COL = "pre_pixel_col"
PRE_VARIANT = "pre_variant"

# Compare-models page: two pickers (A and B), each a model and its weights; one layer depth
CMP_MODEL_A = "cmp_model_a"
CMP_WEIGHTS_A = "cmp_weights_a"
CMP_MODEL_B = "cmp_model_b"
CMP_WEIGHTS_B = "cmp_weights_b"
CMP_DEPTH = "cmp_depth"  # relative depth in %, 0 = first layer, 100 = last
CMP_LAYER_A = "cmp_layer_a"
CMP_LAYER_B = "cmp_layer_b"
CMP_TARGET = "cmp_target"  # a class index both models know
CMP_TARGET_FOR = "cmp_target_for"

# lessons: the teacher's side (cnnviz/ui/lesson_store.py, lesson_builder.py, lesson_bar.py)
LESSON_TEACHING = "lesson_teaching"  # the code of the class this browser teaches (None: none; absent: not looked up)
LESSON_SHOW_QR = "lesson_show_qr"  # show the class's code and QR dialog on the next run
LESSON_REV = "lesson_rev"  # grows when the draft changes shape: the builder's widgets start afresh
LESSON_ADDED = "lesson_added"  # the Share panel's "Add this view" button (its message: the step's number)
LESSON_REFUSED = "lesson_refused"  # (step index or None, sentence): the last edit the format refused
LESSON_UPLOAD = "lesson_upload"  # the builder's lesson-file uploader
LESSON_SHIPPED = "lesson_shipped"  # the ready-made lesson to start from
# follow (cnnviz/ui/lesson_follow.py, lesson_questions.py): the class this session follows
FOLLOW_CODE = "follow_code"  # the class code followed (None: none); links write it as ?class=
FOLLOW_OWN = "follow_own"  # True: exploring on one's own (no poll; "Back to the teacher")
FOLLOW_SEEN = "follow_seen"  # the class revision this session last showed
FOLLOW_STEP = "follow_step"  # the step index it last showed
FOLLOW_BEAT = "follow_beat"  # time.monotonic() of the last heartbeat
FOLLOW_IMAGE = "follow_image"  # the image= a step last applied (any other upload is the student's own)
FOLLOW_HIDE = "follow_hide"  # this run: the class's open question, so the pages hide the model's answer
FOLLOW_ENDED = "follow_ended"  # why following stopped (the class ended or expired), shown once
FOLLOW_TYPED = "follow_typed"  # the "Join a class" box's text input
FOLLOW_JOIN_ERROR = "follow_join_error"  # why the typed code was not joined (None: it was)
FOLLOW_EXPLORE = "follow_explore"  # buttons
FOLLOW_BACK = "follow_back"
ASK_ANSWERED = "ask_answered"  # {(code, step): answer value} sent from this session
ASK_ERROR = "ask_error"  # why the last answer was refused (the question closed meanwhile), shown once
ASK_POINT = "ask_point"  # {(code, step): (x, y)} the point chosen on a click question, not yet sent

# buttons (widget keys only: tests find them by these names)
DOWNLOAD_WEIGHTS = "download_weights"  # the offline message's Download button
DRAW_CANVAS = "draw_canvas"  # the sidebar's draw-a-digit canvas
GC_DOWNLOAD = "gc_download"
DOWNLOAD = "download_"  # + a figure's name: every figure's "Download PNG" button (ui.download)
XM_RUN_SLOW = "xm_run_slow"
XM_RUN_FAITH = "xm_run_faith"
XM_STOP = "xm_stop_"  # + the job's kind: the Stop button of a slow explanation waiting or running
LIVE_LAYER = "live_layer"  # Live page: the layer whose strongest channels show (block: + "_block")
LIVE_N = "live_n"
LIVE_CAM = "live_cam"  # Grad-CAM on
LIVE_TARGET = "live_target"  # the pinned class (-1: the top class of each frame)
LIVE_ON = "live_on"  # the camera on
LIVE_VIEW = "live_view"  # the component (its state: the camera's "on", "denied", "absent", ...)
LIVE_STILL = "live_still"  # the still-photo camera offered when the live one cannot run
LIVE_FREEZE = "live_freeze"
LIVE_NOTE = "live_note"  # what Freeze did, shown once
TRAIN_START = "train_start"
TRAIN_STOP = "train_stop"
TRAIN_SAVE = "train_save"
TRAIN_DOWNLOAD = "train_download"

_DEFAULTS = {
    MODEL: DEFAULT_MODEL,
    WEIGHTS: WEIGHTS_PRETRAINED,
    IMAGE_SOURCE: SOURCE_GALLERY,
    GALLERY: DEFAULT_GALLERY,
    IMAGE_BYTES: None,
    IMAGE_NAME: None,
    IMAGE_REF: None,
    PRESENT: False,
    LOCK: False,
    WEIGHTS_PATH: None,
}

# widget keys re-assigned at the top of every run (see init_state)
_WIDGET_KEYS = (MODEL, WEIGHTS, IMAGE_SOURCE, GALLERY, PRESENT, LOCK)
# The Train page's form: Streamlit forgets the state of widgets a run does not draw, so a
# visit to another page reset it (Shapes, 8 epochs) under the last run's results. Re-assigned
# at the top of every run like the sidebar's, once the page has set them.
TRAIN_FORM = (
    TRAIN_SOURCE, TRAIN_SIZE, TRAIN_GREY, TRAIN_ARCH, TRAIN_BLOCKS, TRAIN_WIDTH, TRAIN_KERNEL, TRAIN_ACT,
    TRAIN_POOL, TRAIN_BN, TRAIN_DROPOUT, TRAIN_FLIP, TRAIN_ROT, TRAIN_SHIFT, TRAIN_BRIGHT, TRAIN_EPOCHS,
    TRAIN_BATCH, TRAIN_LR, TRAIN_OPT,
)  # fmt: skip


def init_state() -> None:
    """Fill in defaults once per session and pin widget values across page switches.

    Re-assigning a widget's own key keeps its value when a page switch (or the first
    change after a server start) would otherwise read a stale default.
    """
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value
    for key in _WIDGET_KEYS:
        st.session_state[key] = st.session_state[key]
    for key in TRAIN_FORM:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
