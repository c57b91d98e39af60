# Writes OUT: a C++ source defining `std::string_view NAMESPACE::FUNCTION()` returning the
# contents of FILE.
file(READ ${FILE} text)
set(body "// Generated from ${FILE}; do not edit.\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n\nstd::string_view ${FUNCTION}() {\n  static constexpr std::string_view text = R\"cbtext(${text})cbtext\";\n  return text;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
