# Writes OUT: a C++ source defining cb::store::embedded_migrations() from the SQL FILES.
separate_arguments(FILES)
set(body "// Generated from src/store/migrations/*.sql; do not edit.\n#include \"store/migrations.hpp\"\n\nnamespace cb::store {\n\nconst std::vector<Migration>& embedded_migrations() {\n  static const std::vector<Migration> migrations = {\n")
foreach(f IN LISTS FILES)
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" version ${name})
  # NNNN has leading zeros, which C++ would read as octal: write the decimal value.
  math(EXPR version "${version}")
  file(READ ${f} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"cbsql(${sql})cbsql\"},\n")
endforeach()
string(APPEND body "  };\n  return migrations;\n}\n\n}  // namespace cb::store\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
