// The tests run against every major through npm aliases; all are typed with the `mongoose` (9) types.
declare module 'mongoose8' {
  import mongoose from 'mongoose';
  export default mongoose;
}

declare module 'mongoose9' {
  import mongoose from 'mongoose';
  export default mongoose;
}

declare module 'mongoose6' {
  import mongoose from 'mongoose';
  export default mongoose;
}

declare module 'mongoose7' {
  import mongoose from 'mongoose';
  export default mongoose;
}
