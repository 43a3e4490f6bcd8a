export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <div className="text-3xl font-bold tracking-tight">⚓ Berth</div>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">Containers on your fleet, from one console.</p>
        </div>
        {children}
      </div>
    </main>
  );
}
