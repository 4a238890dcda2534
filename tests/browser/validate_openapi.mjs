// Validates the OpenAPI documents against the OpenAPI 3 schema (a YAML slip such as an
// unquoted comma in a flow mapping silently changes a document's meaning).
//   node validate_openapi.mjs FILE...
import SwaggerParser from '@apidevtools/swagger-parser';

let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    const api = await SwaggerParser.validate(file);
    console.log(`ok: ${file} (${Object.keys(api.paths).length} paths)`);
  } catch (e) {
    failed = true;
    console.error(`INVALID: ${file}\n${e.message}`);
  }
}
process.exit(failed || process.argv.length < 3 ? 1 : 0);
