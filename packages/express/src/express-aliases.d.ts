// The test suite runs against both majors through npm aliases; both are typed with @types/express.
declare module 'express4' {
  import express from 'express';
  export default express;
}

declare module 'express5' {
  import express from 'express';
  export default express;
}
