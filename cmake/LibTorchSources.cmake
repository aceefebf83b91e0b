# Which sources include LibTorch, directly or through the engine's (or the test support's) headers,
# so that only those load the engine's precompiled header: loading it costs 3-4 s, which a file that
# never parses LibTorch would pay for nothing (152 of 197 files of a full build).
#
# A header counts when it includes <torch/...>, <ATen/...> or <c10/...>, or another header that
# counts; headers are named as the sources include them (relative to core/, or by file name in
# tests/support/). Computed once per configure, to a fixed point.

file(GLOB_RECURSE brainprior_core_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/core/*.h)
file(GLOB brainprior_support_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/support/*.h)

# The names a file includes with #include "..." or <...>.
function(brainprior_included_names file out)
  file(STRINGS ${file} lines REGEX "^#include [<\"][^>\"]+[>\"]")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^#include [<\"]([^>\"]+)[>\"].*" "\\1" name "${line}")
    list(APPEND names ${name})
  endforeach()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

function(brainprior_includes_libtorch names torch_headers out)
  foreach(name IN LISTS names)
    if(name MATCHES "^(torch|ATen|c10)/" OR name IN_LIST torch_headers)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

set(brainprior_header_names "")
foreach(header IN LISTS brainprior_core_headers)
  file(RELATIVE_PATH name ${PROJECT_SOURCE_DIR}/core ${header})
  list(APPEND brainprior_header_names ${name})
  brainprior_included_names(${header} includes)
  set("brainprior_includes_${name}" ${includes})
endforeach()
foreach(header IN LISTS brainprior_support_headers)
  get_filename_component(name ${header} NAME)
  list(APPEND brainprior_header_names ${name})
  brainprior_included_names(${header} includes)
  set("brainprior_includes_${name}" ${includes})
endforeach()

set(BRAINPRIOR_LIBTORCH_HEADERS "")
set(changed TRUE)
while(changed)
  set(changed FALSE)
  foreach(name IN LISTS brainprior_header_names)
    if(NOT name IN_LIST BRAINPRIOR_LIBTORCH_HEADERS)
      brainprior_includes_libtorch("${brainprior_includes_${name}}" "${BRAINPRIOR_LIBTORCH_HEADERS}" uses)
      if(uses)
        list(APPEND BRAINPRIOR_LIBTORCH_HEADERS ${name})
        set(changed TRUE)
      endif()
    endif()
  endforeach()
endwhile()

# Marks the sources of `target` that do not include LibTorch, and the file AUTOMOC generates, to
# skip the engine's precompiled header.
function(brainprior_skip_engine_headers_without_libtorch target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  get_target_property(binary_dir ${target} BINARY_DIR)
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.cpp$")
      continue()
    endif()
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${source_dir})
    brainprior_included_names(${path} includes)
    brainprior_includes_libtorch("${includes}" "${BRAINPRIOR_LIBTORCH_HEADERS}" uses)
    if(NOT uses)
      set_source_files_properties(${path} DIRECTORY ${source_dir} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  set_source_files_properties(${binary_dir}/${target}_autogen/mocs_compilation.cpp DIRECTORY ${source_dir}
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
endfunction()

# Gives `target` the engine's precompiled header for its LibTorch sources only.
function(brainprior_use_engine_headers target)
  brainprior_reuse_precompiled_headers(${target} brainprior_core)
  brainprior_skip_engine_headers_without_libtorch(${target})
endfunction()
