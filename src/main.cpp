// Entry point of the `commitbridge` command.
#include "cli/main_command.hpp"

int main(int argc, char** argv) { return cb::cli::run_main(argc, argv); }
