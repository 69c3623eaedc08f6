declare module 'ajv-formats-draft2019' {
  import type { Ajv } from 'ajv';

  const addFormats: (ajv: Ajv, options?: { formats?: string[] }) => Ajv;
  export default addFormats;
}
