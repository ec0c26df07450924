import { QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { createBrowserRouter, Link, Outlet, RouterProvider } from 'react-router';
import { JoinPage } from './features/auth/join-page.tsx';
import { useEndSessionOnUnauthorized } from './features/auth/session.ts';
import { RoomPage } from './features/chat/room-page.tsx';
import { createQueryClient, TRPCProvider, trpcClient } from './lib/trpc.ts';

function SessionWatcher() {
  useEndSessionOnUnauthorized();
  return <Outlet />;
}

function NotFound() {
  return (
    <main className="join-page">
      <div className="card">
        <h1>Page not found</h1>
        <p>
          <Link to="/">Go to the join page</Link>
        </p>
      </div>
    </main>
  );
}

const router = createBrowserRouter([
  {
    element: <SessionWatcher />,
    children: [
      { path: '/', element: <JoinPage /> },
      { path: '/rooms/:room', element: <RoomPage /> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <RouterProvider router={router} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
