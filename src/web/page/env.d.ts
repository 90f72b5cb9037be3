declare module "*?raw" {
  const text: string;
  export default text;
}
declare module "*?base64" {
  const data: string;
  export default data;
}
