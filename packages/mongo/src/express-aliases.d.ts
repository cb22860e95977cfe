// The credits test runs two Express 5 apps through the npm alias the express package tests with.
declare module 'express5' {
  import express from 'express';
  export default express;
}
