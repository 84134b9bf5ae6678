# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Included after project() (CMAKE_PROJECT_INCLUDE) when tools/setup_ros_env.sh builds an interface
# package against the ROS 2 wheels. Their exported *__rosidl_generator_py targets name the wheel
# builder's Python and NumPy include directories (/opt/python/cp311-cp311/...), which do not exist
# here, and CMake refuses to generate with a missing imported include directory. Instead of
# creating those paths (root, outside the repository) the names are rewritten, once every target
# is known, to this interpreter's directories: HGGT_WHEEL_PREFIX is the builder's prefix,
# HGGT_PYTHON_INCLUDE_DIR and HGGT_NUMPY_INCLUDE_DIR are ours.

function(hggt_rewrite_wheel_include_dirs)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs OR NOT dirs MATCHES "${HGGT_WHEEL_PREFIX}")
      continue()
    endif()
    set(rewritten "")
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^${HGGT_WHEEL_PREFIX}/include/")
        set(dir "${HGGT_PYTHON_INCLUDE_DIR}")
      elseif(dir MATCHES "^${HGGT_WHEEL_PREFIX}/.*/numpy/")
        set(dir "${HGGT_NUMPY_INCLUDE_DIR}")
      endif()
      list(APPEND rewritten "${dir}")
    endforeach()
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${rewritten}")
  endforeach()
endfunction()

if(HGGT_WHEEL_PREFIX)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL hggt_rewrite_wheel_include_dirs)
endif()
