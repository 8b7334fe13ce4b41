let total = 0;
for (let k = n; k > 0; k--) {
  total = total + k;
}
console.log(total);
