# Included by the root CMakeLists after knee_library(knee_calibrate ...): links dlopen for the
# CUDA probe, and builds the MPI helper where MPI is found.
target_link_libraries(knee_calibrate PUBLIC ${CMAKE_DL_LIBS})

# MPI is optional: with it, knee-calibrate-mpi (calibrate/mpi/main.cpp) measures a process-to-
# process link when `mpirun -np 2 knee calibrate --mpi` starts it on every rank. A separate
# executable, so that knee itself never needs an MPI library to run. Only the C API is used.
set(MPI_CXX_SKIP_MPICXX ON)
find_package(MPI COMPONENTS CXX QUIET)
if(MPI_CXX_FOUND)
  add_executable(knee-calibrate-mpi ${CMAKE_SOURCE_DIR}/calibrate/mpi/main.cpp)
  target_compile_options(knee-calibrate-mpi PRIVATE ${KNEE_WARNINGS})
  target_link_libraries(knee-calibrate-mpi PRIVATE knee_calibrate MPI::MPI_CXX)
  set_target_properties(knee-calibrate-mpi PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
else()
  message(STATUS "knee: MPI not found; knee-calibrate-mpi (knee calibrate --mpi) is skipped")
endif()
