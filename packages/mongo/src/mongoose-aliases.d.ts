// The tests run against both majors through npm aliases; both are typed with the `mongoose` (9) types.
declare module 'mongoose8' {
  import mongoose from 'mongoose';
  export default mongoose;
}

declare module 'mongoose9' {
  import mongoose from 'mongoose';
  export default mongoose;
}
